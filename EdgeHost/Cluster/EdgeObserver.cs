using OrleansGateway.EdgeHost.Diagnostics;
using OrleansGateway.EdgeHost.Protocol;
using OrleansGateway.EdgeHost.Sessions;
using OrleansGateway.Grains;

namespace OrleansGateway.EdgeHost.Cluster;

/// <summary>
/// The edge's one observer: grains push here once per edge, and it fans out to the local sessions,
/// encoding each message once, not once per session.
/// </summary>
internal sealed class EdgeObserver(SessionRegistry registry, ChannelSubscriptions channels, SendTickets tickets, EdgeMetrics metrics, TimeProvider time) : IEdgeObserver
{
    public Task DeliverAsync(MailboxBatch batch)
    {
        var sessions = registry.Get(batch.ClientId);
        if (sessions.Length == 0)
        {
            return Task.CompletedTask;
        }

        var frames = new byte[batch.Messages.Count][];
        for (var i = 0; i < frames.Length; i++)
        {
            var message = batch.Messages[i];
            frames[i] = JsonFrameCodec.Message(message.Seq, message.From, message.Data);
        }

        foreach (var session in sessions)
        {
            // A failing session closes itself (slow consumer); it never stops the others.
            session.Streams.Deliver(batch.Messages, frames);
        }

        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        metrics.Delivered(batch.Messages, sessions.Length, now);
        EdgeTracing.Delivered("message", batch.ClientId, batch.Messages, sessions.Length);
        return Task.CompletedTask;
    }

    public Task DeliverManyAsync(MailboxBatch[] batches)
    {
        foreach (var batch in batches)
        {
            DeliverAsync(batch);
        }

        return Task.CompletedTask;
    }

    public Task PushAsync(EdgePush push)
    {
        foreach (var batch in push.Mailboxes)
        {
            DeliverAsync(batch);
        }

        foreach (var batch in push.Channels)
        {
            DeliverPublicationsAsync(batch);
        }

        // After the messages: a sender waiting for its ok resumes once what came with it is already queued.
        if (push.Acks is { } acks)
        {
            foreach (var ack in acks)
            {
                tickets.Complete(ack);
            }
        }

        return Task.CompletedTask;
    }

    public Task DeliverPublicationsAsync(ChannelBatch batch)
    {
        if (batch.Presence is { } changes)
        {
            return DeliverPresence(batch.Channel, changes);
        }

        var subscribers = channels.Get(batch.Channel);
        if (subscribers.Length == 0)
        {
            return Task.CompletedTask;
        }

        // Encoded once per edge, written to every local subscriber.
        var frames = new byte[batch.Messages.Count][];
        for (var i = 0; i < frames.Length; i++)
        {
            var publication = batch.Messages[i];
            frames[i] = JsonFrameCodec.Publication(batch.Channel, publication.Seq, publication.From, publication.Data);
        }

        foreach (var session in subscribers)
        {
            session.DeliverPublications(batch.Channel, batch.Messages, frames);
        }

        metrics.Delivered(batch.Messages, subscribers.Length, time.GetUtcNow().ToUnixTimeMilliseconds());
        EdgeTracing.Delivered("publication", batch.Channel, batch.Messages, subscribers.Length);
        return Task.CompletedTask;
    }

    /// <summary>Joins and leaves, encoded once, to the local subscribers that asked for them.</summary>
    private Task DeliverPresence(string channel, PresenceChange[] changes)
    {
        var watchers = channels.Watchers(channel);
        if (watchers.Length == 0 || changes.Length == 0)
        {
            return Task.CompletedTask;
        }

        var frames = Array.ConvertAll(changes, change => JsonFrameCodec.PresenceChange(channel, change));
        foreach (var session in watchers)
        {
            session.DeliverPresence(channel, frames);
        }

        return Task.CompletedTask;
    }

    public Task DisconnectAsync(string clientId, string code)
    {
        foreach (var session in registry.Get(clientId))
        {
            session.RequestClose(CloseReason.FromByeCode(code));
        }

        return Task.CompletedTask;
    }
}
