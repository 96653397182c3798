"""« Tâches de fond »: the background jobs as the caisse's agents see and retry them."""
