using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OrleansGateway.Grains.Edges;
using OrleansGateway.Grains.Mailboxes;

namespace OrleansGateway.Grains;

/// <summary>
/// One channel: offsets, bounded history, and the edges with local subscribers. A channel with 10,000
/// subscribers on 3 edges costs 3 pushes per publication.
/// </summary>
[ImplicitStreamSubscription(InboundStreams.ChannelNamespace)]
internal sealed class ChannelGrain : FanoutGrain, IChannelGrain, IGrainMigrationParticipant
{
    private const string HistoryKey = "history";
    private const string EdgesKey = "edges";

    private readonly ChannelOptions _options;
    private readonly TimeProvider _time;
    private Mailbox _history;

    public ChannelGrain(IOptions<ChannelOptions> options, TimeProvider time, EdgeLeaseCache leases, GrainMetrics metrics, MailboxStoreFactory stores, EdgeSweeper sweeper, ILogger<ChannelGrain> logger)
        : base(options.Value, leases, metrics, stores, sweeper, logger)
    {
        _options = options.Value;
        _time = time;
        _history = new Mailbox(_options.MaxMessages, _options.MaxAge, time);
    }

    protected override string Kind => "channel";

    private string Channel => Key;

    public async Task<long> PublishAsync(string from, byte[] data)
    {
        var publication = await AppendAsync(_history, from, data);
        await PushAsync(static (_, edge, batch) => edge.PublishAsync(batch), ChannelBatch.Of(Channel, publication));
        RepushLater();
        return publication.Seq;
    }

    public async Task<AttachResult> SubscribeEdgeAsync(string edgeId, IEdgeObserver edge, long? since)
    {
        await PruneAsync();
        Edges.Add(edgeId, edge);
        UpdateKeepAlive();
        return Read(since);
    }

    public Task UnsubscribeEdgeAsync(string edgeId)
    {
        if (Edges.RemoveEdge(edgeId))
        {
            UpdateKeepAlive();
        }

        return Task.CompletedTask;
    }

    public Task<AttachResult> ReadSinceAsync(long? since) => Task.FromResult(Read(since));

    public async Task RepushLastAsync()
    {
        RepushServed();
        var last = _history.Seq > 0 && Edges.EdgeCount > 0 ? _history.ReadSince(_history.Seq - 1).Replay : [];
        if (last.Count == 1)
        {
            await PushAsync(static (_, edge, batch) => edge.PublishAsync(batch), ChannelBatch.Of(Channel, last[0]));
        }
    }

    public async Task<int> GetEdgeCountAsync()
    {
        await PruneAsync();

        return Edges.EdgeCount;
    }

    protected override Task AcceptInboundAsync(InboundMessage message) => PublishAsync(message.From, message.Data);

    protected override void Restore(MailboxSnapshot snapshot) =>
        _history = new Mailbox(_options.MaxMessages, _options.MaxAge, _time, snapshot);

    public void OnDehydrate(IDehydrationContext dehydrationContext)
    {
        DehydrateInbound(dehydrationContext);
        dehydrationContext.TryAddValue(HistoryKey, _history.ToSnapshot());
        dehydrationContext.TryAddValue(EdgesKey, Edges.ToSnapshot());
    }

    public void OnRehydrate(IRehydrationContext rehydrationContext)
    {
        RehydrateInbound(rehydrationContext);
        if (rehydrationContext.TryGetValue(HistoryKey, out MailboxSnapshot? history) && history is not null)
        {
            _history = new Mailbox(_options.MaxMessages, _options.MaxAge, _time, history);
        }

        if (rehydrationContext.TryGetValue(EdgesKey, out EdgeSessionsSnapshot[]? edges) && edges is not null)
        {
            Edges.Restore(edges);
        }
    }

    private AttachResult Read(long? since) => since is { } after ? _history.ReadSince(after) : new AttachResult(_history.Seq, true, []);
}
