using Microsoft.Extensions.Options;
using OrleansGateway.Grains.Edges;
using OrleansGateway.Grains.Events;
using OrleansGateway.Grains.MessageLogs;

namespace OrleansGateway.Grains;

/// <summary>
/// One client's mailbox and attached sessions. Non-reentrant: an attach (snapshot + replay) and a send
/// never interleave, which is what makes the resume seam gap-free.
/// </summary>
[ImplicitStreamSubscription(InboundStreams.ClientNamespace)]
internal sealed partial class ClientGrain : MessageLogGrain, IClientGrain, IClientSessionGrain
{
    public ClientGrain(IOptions<MailboxOptions> options, TimeProvider time, EdgeDirectory edges, GrainMetrics metrics, MessageLogStoreFactory stores, LifecycleEventEmitter events)
        : base(options.Value, time, edges, metrics, stores)
    {
        _events = events;
        if (events.Produces(LifecycleEventKinds.Disconnected))
        {
            Edges.Lapsed = EdgeLost;
        }
    }

    protected override string Kind => "client";

    protected override string LogMigrationKey => "mailbox";

    protected override string EdgesMigrationKey => "sessions";

    private string ClientId => Key;

    public async Task<StreamReplay> AttachAsync(string edgeId, IEdgeObserver edge, long sessionId, long? lastSeq, int maxSessions)
    {
        // Pruned first: sessions of edges whose lease lapsed (crashed edges) must not count against the cap.
        await PruneAsync();
        if (Edges.SessionCount >= maxSessions && !Edges.Contains(edgeId, sessionId))
        {
            return new StreamReplay(MessageLog.Seq, false, []) { SessionLimitReached = true };
        }

        var known = Edges.Contains(edgeId, sessionId);
        Edges.Add(edgeId, edge, sessionId);
        UpdateKeepAlive();
        var replay = Read(lastSeq);
        if (!known)
        {
            Connected(edgeId, sessionId, lastSeq is not null, replay.Recovered);
        }

        return replay;
    }

    public Task DetachAsync(string edgeId, long sessionId) => DetachAsync(edgeId, sessionId, LifecycleEventReasons.Unknown, null);

    public Task DetachAsync(string edgeId, long sessionId, string reason, int? code)
    {
        var known = Edges.Contains(edgeId, sessionId);
        if (Edges.RemoveSession(edgeId, sessionId))
        {
            UpdateKeepAlive();
        }

        if (known)
        {
            Disconnected(edgeId, sessionId, reason, code);
        }

        return Task.CompletedTask;
    }

    public async Task<long> SendAsync(string from, byte[] data)
    {
        var message = await AppendAsync(MessageLog, from, data);
        Deliver(message);
        return message.Seq;
    }

    public Task<Accepted> SendOnceAsync(string from, byte[] data, string key) => AppendOnceAsync(from, data, key);

    public Task SendOneWayAsync(string from, byte[] data, string? key, string edgeId, long ticket)
    {
        if (key is not null)
        {
            return SendOnceOneWayAsync(from, data, key, edgeId, ticket);
        }

        // The hottest path of the silo: without durability the append completes at once and the send costs no task.
        ValueTask<StreamMessage> append;
        try
        {
            append = AppendAsync(MessageLog, from, data);
        }
        catch (Exception ex)
        {
            append = ValueTask.FromException<StreamMessage>(ex);
        }

        if (append.IsCompletedSuccessfully)
        {
            DeliverAndAnswer(append.Result, edgeId, ticket);
            return Task.CompletedTask;
        }

        return SendWhenAppendedAsync(append, from, edgeId, ticket);
    }

    private async Task SendWhenAppendedAsync(ValueTask<StreamMessage> append, string from, string edgeId, long ticket)
    {
        StreamMessage message;
        try
        {
            message = await append;
        }
        catch (Exception ex)
        {
            Unavailable(ex, from, edgeId, ticket);
            return;
        }

        DeliverAndAnswer(message, edgeId, ticket);
    }

    private async Task SendOnceOneWayAsync(string from, byte[] data, string key, string edgeId, long ticket)
    {
        Accepted accepted;
        try
        {
            accepted = await AppendOnceAsync(from, data, key);
        }
        catch (IdempotencyKeyReusedException)
        {
            Edges.Acknowledge(edgeId, new SendAck(ticket, SendOutcome.KeyReused, 0));
            return;
        }
        catch (Exception ex)
        {
            Unavailable(ex, from, edgeId, ticket);
            return;
        }

        Edges.Acknowledge(edgeId, new SendAck(ticket, accepted.Duplicate ? SendOutcome.Duplicate : SendOutcome.Accepted, accepted.Position));
    }

    /// <summary>
    /// Pushes the message, then queues the sender's answer: on one edge both leave in the same push (AppendOnceAsync
    /// delivers before it returns, so keyed sends keep the same order).
    /// </summary>
    private void DeliverAndAnswer(StreamMessage message, string edgeId, long ticket)
    {
        Deliver(message);
        Edges.Acknowledge(edgeId, new SendAck(ticket, SendOutcome.Accepted, message.Seq));
    }

    /// <summary>One-way: nobody else sees the exception. The sender hears "unavailable" (retry) and the silo logs why.</summary>
    private void Unavailable(Exception exception, string from, string edgeId, long ticket)
    {
        Edges.SendFailed(exception, from, ClientId);
        Edges.Acknowledge(edgeId, new SendAck(ticket, SendOutcome.Unavailable, 0));
    }

    public Task<StreamReplay> ReadMailboxAsync(long afterSeq) => Task.FromResult(MessageLog.ReadSince(afterSeq));

    public Task RepushLastAsync()
    {
        if (RepushServed() is { } last)
        {
            Pushed(Edges.Push(MailboxBatch.Of(ClientId, last)));
        }

        return Task.CompletedTask;
    }

    public Task<StreamReplay> ReadSinceAsync(long afterSeq) => Task.FromResult(MessageLog.ReadSince(afterSeq));

    public async Task<int> DisconnectAsync(string code)
    {
        await PruneAsync();
        var sessions = Edges.SessionCount;
        // Through the same per-edge queue as messages, so the bye never overtakes a message pushed before it.
        Pushed(Edges.PushDisconnect(ClientId, code));
        return sessions;
    }

    public async Task<Presence> GetPresenceAsync()
    {
        await PruneAsync();

        var sessions = Edges.SessionCount;
        return new Presence(sessions > 0, sessions, MessageLog.Seq);
    }

    protected override Task AcceptInboundAsync(InboundMessage message) => SendAsync(message.From, message.Data);

    protected override void Deliver(StreamMessage message)
    {
        Pushed(Edges.Push(MailboxBatch.Of(ClientId, message)));
        RepushLater();
    }
}
