"""« Contact »: the caisses' assistance desks, sending a message, the desk's inbox."""
