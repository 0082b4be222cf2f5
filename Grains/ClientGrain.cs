using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OrleansGateway.Grains.Edges;
using OrleansGateway.Grains.Mailboxes;

namespace OrleansGateway.Grains;

/// <summary>
/// One client's mailbox and attached sessions. Non-reentrant: an attach (snapshot + replay) and a send
/// never interleave, which is what makes the resume seam gap-free.
/// </summary>
[ImplicitStreamSubscription(InboundStreams.ClientNamespace)]
internal sealed class ClientGrain : FanoutGrain, IClientGrain, IGrainMigrationParticipant
{
    private const string MailboxKey = "mailbox";
    private const string SessionsKey = "sessions";

    private readonly MailboxOptions _options;
    private readonly TimeProvider _time;
    private readonly EdgePushBatcher _pushes;
    private Mailbox _mailbox;

    public ClientGrain(IOptions<MailboxOptions> options, TimeProvider time, EdgeLeaseCache leases, GrainMetrics metrics, MailboxStoreFactory stores, EdgeSweeper sweeper, EdgePushBatcher pushes, ILogger<ClientGrain> logger)
        : base(options.Value, leases, metrics, stores, sweeper, logger)
    {
        _pushes = pushes;
        _options = options.Value;
        _time = time;
        _mailbox = new Mailbox(_options.MaxMessages, _options.MaxAge, time);
    }

    protected override string Kind => "client";

    private string ClientId => Key;

    public Task<AttachResult> AttachAsync(string edgeId, IEdgeObserver edge, long sessionId, long? lastSeq) =>
        AttachAsync(edgeId, edge, sessionId, lastSeq, int.MaxValue);

    public async Task<AttachResult> AttachAsync(string edgeId, IEdgeObserver edge, long sessionId, long? lastSeq, int maxSessions)
    {
        // Pruned first: sessions of edges whose lease lapsed (crashed edges) must not count against the cap.
        await PruneAsync();
        if (Edges.SessionCount >= maxSessions && !Edges.Contains(edgeId, sessionId))
        {
            return new AttachResult(_mailbox.Seq, false, []) { SessionLimitReached = true };
        }

        Edges.Add(edgeId, edge, sessionId);
        UpdateKeepAlive();
        return lastSeq is { } after ? _mailbox.ReadSince(after) : new AttachResult(_mailbox.Seq, true, []);
    }

    public Task DetachAsync(string edgeId, long sessionId)
    {
        if (Edges.RemoveSession(edgeId, sessionId))
        {
            UpdateKeepAlive();
        }

        return Task.CompletedTask;
    }

    public async Task<long> SendAsync(string from, byte[] data)
    {
        var message = await AppendAsync(_mailbox, from, data);
        await PushAsync(Deliver, (Pushes: _pushes, Batch: MailboxBatch.Of(ClientId, message)));
        RepushLater();
        return message.Seq;
    }

    public async Task RepushLastAsync()
    {
        RepushServed();
        var last = _mailbox.Seq > 0 && Edges.EdgeCount > 0 ? _mailbox.ReadSince(_mailbox.Seq - 1).Replay : [];
        if (last.Count == 1)
        {
            await PushAsync(Deliver, (Pushes: _pushes, Batch: MailboxBatch.Of(ClientId, last[0])));
        }
    }

    /// <summary>Pushes go through the silo's per-edge batcher: many grains' pushes to one edge become one call.</summary>
    private static Task Deliver(string edgeId, IEdgeObserver edge, (EdgePushBatcher Pushes, MailboxBatch Batch) arg)
    {
        arg.Pushes.Deliver(edgeId, edge, arg.Batch);
        return Task.CompletedTask;
    }

    public Task<AttachResult> ReadSinceAsync(long afterSeq) => Task.FromResult(_mailbox.ReadSince(afterSeq));

    public async Task<int> DisconnectAsync(string code)
    {
        await PruneAsync();
        var sessions = Edges.SessionCount;
        // Through the same per-edge queue as messages, so the bye never overtakes a message pushed before it.
        await PushAsync(
            static (edgeId, edge, arg) =>
            {
                arg.Pushes.Disconnect(edgeId, edge, arg.ClientId, arg.code);
                return Task.CompletedTask;
            },
            (Pushes: _pushes, ClientId, code));
        return sessions;
    }

    public async Task<Presence> GetPresenceAsync()
    {
        await PruneAsync();

        var sessions = Edges.SessionCount;
        return new Presence(sessions > 0, sessions, _mailbox.Seq);
    }

    protected override Task AcceptInboundAsync(InboundMessage message) => SendAsync(message.From, message.Data);

    protected override void Restore(MailboxSnapshot snapshot) =>
        _mailbox = new Mailbox(_options.MaxMessages, _options.MaxAge, _time, snapshot);

    public void OnDehydrate(IDehydrationContext dehydrationContext)
    {
        DehydrateInbound(dehydrationContext);
        dehydrationContext.TryAddValue(MailboxKey, _mailbox.ToSnapshot());
        dehydrationContext.TryAddValue(SessionsKey, Edges.ToSnapshot());
    }

    public void OnRehydrate(IRehydrationContext rehydrationContext)
    {
        RehydrateInbound(rehydrationContext);
        if (rehydrationContext.TryGetValue(MailboxKey, out MailboxSnapshot? mailbox) && mailbox is not null)
        {
            _mailbox = new Mailbox(_options.MaxMessages, _options.MaxAge, _time, mailbox);
        }

        if (rehydrationContext.TryGetValue(SessionsKey, out EdgeSessionsSnapshot[]? sessions) && sessions is not null)
        {
            Edges.Restore(sessions);
        }
    }
}
