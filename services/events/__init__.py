"""Events: seminars, trainings and conferences, with registration that never overbooks."""
