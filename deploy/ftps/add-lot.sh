#!/bin/sh
# Adds (or updates) the FTPS account of one lot: chrooted into /var/lib/cep/inbox/L{ll}, files
# owned by the service's user, only from the given source addresses. The password is asked.
#   add-lot.sh 08 203.0.113.10[,203.0.113.11]
set -eu
lot="$1"; allowed="$2"
inbox="/var/lib/cep/inbox/L$lot"
mkdir -p "$inbox"
chown cep:cep "$inbox"
uid=$(id -u cep); gid=$(id -g cep)
pure-pw useradd "lot$lot" -u "$uid" -g "$gid" -d "$inbox" -r "$allowed" -m \
    -f /etc/pure-ftpd/db/pureftpd.passwd -F /etc/pure-ftpd/db/pureftpd.pdb \
  || pure-pw usermod "lot$lot" -r "$allowed" -m \
    -f /etc/pure-ftpd/db/pureftpd.passwd -F /etc/pure-ftpd/db/pureftpd.pdb
echo "lot $lot: account lot$lot, inbox $inbox, allowed from $allowed"
