// Projections: being written.
