namespace OrleansGateway.Tests.Diagnostics;

/// <summary>
/// Tests that start or rely on the absence of an <see cref="System.Diagnostics.ActivityListener"/>: listeners are
/// process-wide, so a test asserting "tracing off adds nothing" would see another test's listener if they ran at once.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class TracingListenersCollection
{
    public const string Name = "Activity listeners (process-wide)";
}
