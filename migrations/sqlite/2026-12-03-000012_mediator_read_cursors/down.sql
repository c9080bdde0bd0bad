DROP TABLE mediator_read_cursors;
