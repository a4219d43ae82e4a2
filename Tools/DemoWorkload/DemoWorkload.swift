import EventLog

/// Placeholder: the seeded demo workload generator is being written.
public enum DemoWorkloadPlaceholder {}
