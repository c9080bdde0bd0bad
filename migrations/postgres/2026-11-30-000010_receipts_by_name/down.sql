DROP INDEX receipts_lot_file_name;
