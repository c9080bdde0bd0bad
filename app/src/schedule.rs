//! The scheduler of `cep serve` (and `cep schedule tick` by hand): which jobs are due at a given
//! time (Europe/Paris), each run once per period and recorded in `job_runs`, the missed ones
//! caught up on the next tick (after a restart: on start).
//!
//! Jobs: the daily inbox sweep; the daily pull of each `[[pull]]` lot from its operator's
//! endpoint; the previous month's indicators and documents (follow-up per lot,
//! national summary); the previous quarter's statements (issued and rendered); the previous
//! half-year's quality reviews; the previous year's steering and regulation files. After each tick, due e-mails are sent.

use crate::settings::Settings;
use crate::{Context as _, Result, ensure};
use cep_domain::{HalfYear, Lot, Quarter, YearMonth};
use cep_reports::{Period, Renderer};
use cep_store::Store;
use cep_store::models::reports::JobRun;
use chrono::{Datelike, NaiveDate, NaiveDateTime, Timelike};

/// A job and the period it is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Job {
    Sweep(NaiveDate),
    /// The day's pull of one lot's feed from its operator's endpoint (spec §1).
    Pull(NaiveDate, Lot),
    Purge(NaiveDate),
    Monthly(YearMonth),
    Quarterly(Quarter),
    HalfYearly(HalfYear),
    Yearly(i32),
}

impl Job {
    pub fn name(self) -> &'static str {
        match self {
            Job::Sweep(_) => "daily-sweep",
            Job::Pull(..) => "daily-pull",
            Job::Purge(_) => "daily-purge",
            Job::Monthly(_) => "monthly",
            Job::Quarterly(_) => "quarterly",
            Job::HalfYearly(_) => "half-yearly",
            Job::Yearly(_) => "yearly",
        }
    }

    pub fn period(self) -> String {
        match self {
            Job::Sweep(d) | Job::Purge(d) => d.to_string(),
            Job::Pull(d, lot) => format!("{d}-L{lot}"),
            Job::Monthly(m) => m.to_string(),
            Job::Quarterly(q) => q.to_string(),
            Job::HalfYearly(h) => h.to_string(),
            Job::Yearly(y) => y.to_string(),
        }
    }
}

/// When each kind of job is due.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schedule {
    pub start: YearMonth,
    pub hour: u32,
    pub monthly_day: u32,
    pub quarterly_day: u32,
    pub half_yearly_day: u32,
    pub yearly_day: u32,
    pub sweep_hour: u32,
    /// The lots pulled daily, after the sweep.
    pub pulled_lots: Vec<Lot>,
    /// How long a failed job waits before it is tried again.
    pub retry_after: chrono::Duration,
}

impl Schedule {
    pub fn of(settings: &Settings) -> Result<Schedule> {
        let s = &settings.reports;
        for (name, day) in [
            ("monthly_day", s.monthly_day),
            ("quarterly_day", s.quarterly_day),
            ("half_yearly_day", s.half_yearly_day),
            ("yearly_day", s.yearly_day),
        ] {
            ensure!(
                (1..=28).contains(&day),
                "[reports] {name} must be 1 to 28, got {day}"
            );
        }
        for (name, h) in [("hour", s.hour), ("sweep_hour", s.sweep_hour)] {
            ensure!(h < 24, "[reports] {name} must be 0 to 23, got {h}");
        }
        Ok(Schedule {
            start: s.start_month()?,
            hour: s.hour,
            monthly_day: s.monthly_day,
            quarterly_day: s.quarterly_day,
            half_yearly_day: s.half_yearly_day,
            yearly_day: s.yearly_day,
            sweep_hour: s.sweep_hour,
            pulled_lots: settings
                .pulls
                .iter()
                .map(|p| p.lot())
                .collect::<Result<_>>()?,
            retry_after: chrono::Duration::minutes(i64::from(s.retry_minutes)),
        })
    }

    /// The instant (Paris) at which a job whose period ends with month `last` becomes due: on
    /// `day` of the following month, at the schedule's hour.
    fn due_at(&self, last: YearMonth, day: u32) -> NaiveDateTime {
        last.succ()
            .first_day()
            .with_day(day)
            .expect("day 1 to 28")
            .and_hms_opt(self.hour, 0, 0)
            .expect("hour 0 to 23")
    }

    /// Every job due at `now` (Paris time), oldest period first: every month, quarter and
    /// half-year from `start` whose due instant has passed, and today's sweep once its hour has
    /// come. Which of them already ran is for [`JobRun::begin`] to say.
    pub fn due(&self, now: NaiveDateTime) -> Vec<Job> {
        let mut jobs = Vec::new();
        if now.hour() >= self.sweep_hour {
            jobs.push(Job::Sweep(now.date()));
            jobs.extend(
                self.pulled_lots
                    .iter()
                    .map(|&lot| Job::Pull(now.date(), lot)),
            );
            jobs.push(Job::Purge(now.date()));
        }
        let mut m = self.start;
        while self.due_at(m, self.monthly_day) <= now {
            jobs.push(Job::Monthly(m));
            if m.month().is_multiple_of(3) && self.due_at(m, self.quarterly_day) <= now {
                jobs.push(Job::Quarterly(m.quarter()));
            }
            if m.month().is_multiple_of(6) && self.due_at(m, self.half_yearly_day) <= now {
                jobs.push(Job::HalfYearly(m.half_year()));
            }
            if m.month() == 12 && self.due_at(m, self.yearly_day) <= now {
                jobs.push(Job::Yearly(m.year()));
            }
            m = m.succ();
        }
        jobs
    }
}

/// Runs the due jobs with the service's settings.
#[derive(Debug)]
pub struct Runner {
    pub store: Store,
    pub settings: Settings,
    pub schedule: Schedule,
    /// The service's receive pipeline (identity resolution included).
    ingestor: cep_ingest::Ingestor,
    renderer: Renderer,
}

impl Runner {
    pub fn new(store: Store, settings: Settings) -> Result<Runner> {
        let schedule = Schedule::of(&settings)?;
        // E-mails left `sending` by a crash are tried again.
        cep_store::models::reports::OutboxEmail::release_stale(&mut *store.conn()?)?;
        Ok(Runner {
            ingestor: crate::receive::ingestor(store.clone(), &settings.data_dir),
            store,
            settings,
            schedule,
            renderer: Renderer::new(),
        })
    }

    /// Runs every due job not done yet, then sends the due e-mails. `now` is UTC. Returns one
    /// line per job run.
    pub fn tick(&self, now: NaiveDateTime) -> Result<Vec<String>> {
        let paris = now + chrono::Duration::hours(cep_domain::paris::offset_hours(now));
        let mut log = Vec::new();
        // One read of what is done, not a transaction per due job and tick.
        let done = JobRun::done(&mut *self.store.conn()?)?;
        for job in self.schedule.due(paris) {
            if done.contains(&(job.name().to_owned(), job.period())) {
                continue;
            }
            let Some(id) = JobRun::begin(
                &mut *self.store.conn()?,
                job.name(),
                &job.period(),
                now,
                self.schedule.retry_after,
            )?
            else {
                continue;
            };
            let outcome = self.run(job, now);
            let (done, detail) = match &outcome {
                Ok(d) => (true, d.clone()),
                Err(e) => (false, e.chain()),
            };
            JobRun::finish(&mut *self.store.conn()?, id, done, &detail, now)?;
            let line = format!(
                "{} {}: {} {detail}",
                job.name(),
                job.period(),
                if done { "done," } else { "FAILED:" }
            );
            tracing::info!("{line}");
            log.push(line);
        }
        if let Some(smtp) = &self.settings.reports.smtp {
            let d = cep_reports::mail::deliver_due(&self.store, &smtp.settings(), now)?;
            if d.sent + d.retried + d.given_up > 0 {
                log.push(format!(
                    "e-mail: {} sent, {} to retry, {} given up",
                    d.sent, d.retried, d.given_up
                ));
            }
        }
        Ok(log)
    }

    fn publish(&self, period: Period, now: NaiveDateTime) -> Result<String> {
        let folder = self
            .settings
            .data_dir
            .join("reports")
            .join(period.to_string());
        let published = crate::publish::publish(
            &self.store,
            &self.renderer,
            &self.settings.billing,
            crate::publish::Request {
                period,
                lot: None,
                cutoff: now,
                recipients: &self.settings.reports.recipients,
                folder: Some(&folder),
            },
            now,
        )?;
        Ok(format!(
            "{} document(s) stored, {} e-mail(s) queued",
            published.documents, published.emails_queued
        ))
    }

    fn run(&self, job: Job, now: NaiveDateTime) -> Result<String> {
        match job {
            Job::Sweep(_) => {
                let swept = crate::receive::sweep(
                    &self.ingestor,
                    &self.settings,
                    std::time::Duration::from_secs(60),
                )?;
                Ok(format!(
                    "{} file(s) processed, {} deliverable(s), {} notice(s) of médiateur reads",
                    swept.reports.len(),
                    swept.deliverables.len(),
                    swept.mediator_notices.len()
                ))
            }
            Job::Pull(_, lot) => {
                let pull = self
                    .settings
                    .pulls
                    .iter()
                    .find(|p| p.lot().ok() == Some(lot))
                    .context("no [[pull]] for this lot any more")?;
                Ok(crate::receive::pull(&self.ingestor, pull)?.summary())
            }
            Job::Purge(_) => crate::retention::purge(&self.store, &self.settings, now),
            Job::Monthly(m) => self.publish(Period::Month(m), now),
            Job::HalfYearly(h) => self.publish(Period::Half(h), now),
            Job::Yearly(y) => self.publish(Period::Year(y), now),
            Job::Quarterly(q) => {
                let out = self.settings.data_dir.join("billing").join(q.to_string());
                let bill = crate::billing::bill(
                    &self.store,
                    now,
                    self.settings.billing.rules(),
                    &self.settings.billing.scheme()?,
                    &[q],
                    None,
                    &out,
                )?;
                let published = self.publish(Period::Quarter(q), now)?;
                Ok(format!(
                    "{} statement(s) issued; {published}",
                    bill.statements
                ))
            }
        }
    }
}

/// The scheduler inside `cep serve`: a thread with its own runtime where tokio-cron-scheduler
/// fires a tick at the start of every minute; a first tick at once catches up what was missed
/// while the service was down.
pub fn spawn(store: Store, settings: Settings) -> Result<std::thread::JoinHandle<()>> {
    let runner = std::sync::Arc::new(Runner::new(store, settings)?);
    Ok(std::thread::Builder::new()
        .name("scheduler".into())
        .spawn(move || {
            let rt = match tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .enable_all()
                .build()
            {
                Ok(rt) => rt,
                Err(e) => {
                    tracing::error!(error = %e, "the scheduler could not start");
                    return;
                }
            };
            rt.block_on(async move {
                let tick = |runner: std::sync::Arc<Runner>| async move {
                    let now = cep_store::models::now_utc();
                    match tokio::task::spawn_blocking(move || runner.tick(now)).await {
                        Ok(Ok(_)) => {}
                        Ok(Err(e)) => tracing::error!(error = %e.chain(), "scheduler tick"),
                        Err(e) => tracing::error!(error = %e, "scheduler tick panicked"),
                    }
                };
                tick(runner.clone()).await;
                let result = async {
                    let sched = tokio_cron_scheduler::JobScheduler::new().await?;
                    let r = runner.clone();
                    sched
                        .add(tokio_cron_scheduler::Job::new_async(
                            "0 * * * * *",
                            move |_, _| {
                                let r = r.clone();
                                Box::pin(tick(r))
                            },
                        )?)
                        .await?;
                    sched.start().await?;
                    Ok::<_, tokio_cron_scheduler::JobSchedulerError>(())
                }
                .await;
                if let Err(e) = result {
                    tracing::error!(error = %e, "the scheduler could not start");
                    return;
                }
                std::future::pending::<()>().await;
            });
        })?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schedule() -> Schedule {
        Schedule {
            start: "2025-03".parse().unwrap(),
            hour: 6,
            monthly_day: 5,
            quarterly_day: 10,
            half_yearly_day: 15,
            yearly_day: 20,
            sweep_hour: 2,
            pulled_lots: vec![Lot::parse("08").unwrap(), Lot::parse("11").unwrap()],
            retry_after: chrono::Duration::minutes(30),
        }
    }

    fn at(s: &str) -> NaiveDateTime {
        s.parse().unwrap()
    }

    #[test]
    fn jobs_are_due_from_their_day_and_hour_in_paris_and_never_before_start() {
        let s = schedule();
        let names = |t: &str| -> Vec<String> {
            s.due(at(t))
                .into_iter()
                .filter(|j| !matches!(j, Job::Sweep(_) | Job::Pull(..) | Job::Purge(_)))
                .map(|j| format!("{} {}", j.name(), j.period()))
                .collect()
        };
        assert!(names("2025-04-05T05:59:59").is_empty());
        assert_eq!(names("2025-04-05T06:00:00"), vec!["monthly 2025-03"]);
        assert_eq!(
            names("2025-04-10T06:00:00"),
            vec!["monthly 2025-03", "quarterly 2025-T1"]
        );
        assert_eq!(
            names("2025-07-15T06:00:00"),
            vec![
                "monthly 2025-03",
                "quarterly 2025-T1",
                "monthly 2025-04",
                "monthly 2025-05",
                "monthly 2025-06",
                "quarterly 2025-T2",
                "half-yearly 2025-S1",
            ]
        );
        // The year's files on January 20.
        assert!(!names("2026-01-19T12:00:00").contains(&"yearly 2025".to_owned()));
        assert!(names("2026-01-20T06:00:00").contains(&"yearly 2025".to_owned()));
        // The sweep: today's, from its hour.
        assert!(
            !s.due(at("2025-04-05T01:59:00"))
                .contains(&Job::Sweep("2025-04-05".parse().unwrap()))
        );
        assert!(
            s.due(at("2025-04-05T02:00:00"))
                .contains(&Job::Sweep("2025-04-05".parse().unwrap()))
        );
    }

    #[test]
    fn each_configured_lot_is_pulled_daily_after_the_sweep() {
        let s = schedule();
        let day: NaiveDate = "2025-04-05".parse().unwrap();
        assert!(
            !s.due(at("2025-04-05T01:59:00"))
                .iter()
                .any(|j| matches!(j, Job::Pull(..)))
        );
        let daily: Vec<Job> = s
            .due(at("2025-04-05T02:00:00"))
            .into_iter()
            .filter(|j| matches!(j, Job::Sweep(_) | Job::Pull(..)))
            .collect();
        assert_eq!(
            daily,
            vec![
                Job::Sweep(day),
                Job::Pull(day, Lot::parse("08").unwrap()),
                Job::Pull(day, Lot::parse("11").unwrap()),
            ]
        );
        assert_eq!(daily[1].period(), "2025-04-05-L08");
    }
}
