using System.Diagnostics.Metrics;

namespace OrleansGateway.Grains.Edges;

/// <summary>Silo-side metrics of client and channel grains (meter <see cref="MeterName"/>).</summary>
internal sealed class GrainMetrics
{
    public const string MeterName = "OrleansGateway.Silo";

    private readonly Counter<long> _accepted;
    private readonly Counter<long> _migrations;
    private readonly Counter<long> _inboundDuplicates;
    private readonly Counter<long> _keyedDuplicates;
    private readonly Counter<long> _edgePushes;
    private readonly Counter<long> _edgePushCalls;

    public GrainMetrics(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(MeterName);
        _accepted = meter.CreateCounter<long>("ogw.silo.messages.accepted", "{message}", "Messages appended to mailboxes and channels, by kind");
        _migrations = meter.CreateCounter<long>("ogw.silo.grain.migrations", "{grain}", "Grains rehydrated on this silo after migrating with their state, by kind");
        _inboundDuplicates = meter.CreateCounter<long>("ogw.silo.inbound.duplicates", "{message}", "Redelivered backend messages dropped by position");
        _keyedDuplicates = meter.CreateCounter<long>("ogw.silo.idempotent.duplicates", "{message}", "Repeated idempotency keys answered with their first position instead of appended, by kind");
        _edgePushes = meter.CreateCounter<long>("ogw.silo.edge.pushes", "{push}", "Pushes (client message batches, channel publication batches, disconnects, answers to one-way sends) handed to edges");
        _edgePushCalls = meter.CreateCounter<long>("ogw.silo.edge.push_calls", "{call}", "One-way observer calls that carried them (pushes / calls = coalescing)");
    }

    public void Accepted(string kind) => _accepted.Add(1, new KeyValuePair<string, object?>("kind", kind));

    public void Migrated(string kind) => _migrations.Add(1, new KeyValuePair<string, object?>("kind", kind));

    public void InboundDuplicate() => _inboundDuplicates.Add(1);

    public void Duplicate(string kind) => _keyedDuplicates.Add(1, new KeyValuePair<string, object?>("kind", kind));

    public void EdgePushesSent(int pushes, int calls)
    {
        _edgePushes.Add(pushes);
        _edgePushCalls.Add(calls);
    }
}
