using OrleansGateway.EdgeHost.Auth;
using OrleansGateway.EdgeHost.Cluster;
using OrleansGateway.EdgeHost.Diagnostics;
using OrleansGateway.EdgeHost.Protocol;
using OrleansGateway.Grains;

namespace OrleansGateway.EdgeHost.Sessions;

/// <summary>
/// The <c>send</c> frame: to the recipient's grain one-way, its answer taken from the silo's push to this edge
/// (<see cref="SendTickets"/>, the default), gathered with the edge's other sends of the same instant into one call
/// (<see cref="SendBatcher"/>, the default) or alone; or as a call and its response (<c>Gateway:Edge:SendAcksInPush=false</c>).
/// </summary>
internal sealed partial class FrameDispatcher
{
    private Task SendAsync(ClientSession session, ClientFrame frame)
    {
        if (!ClientIds.IsValid(frame.To))
        {
            session.Send(JsonFrameCodec.Error(frame.Id, ErrorCodes.BadRequest, "to must be 1-128 chars of [A-Za-z0-9._:@-]"));
            return Task.CompletedTask;
        }

        if (_sendAcksInPush)
        {
            return SendTicketedAsync(session, frame);
        }

        if (frame.Key is not null)
        {
            return SendOnceAsync(session, frame);
        }

        // Not async and no Func<Task> helper: the hottest path pays one async state machine (AcknowledgeAsync), not
        // three plus a closure and a delegate per message.
        Task call;
        try
        {
            call = grains.Client(frame.To!).SendAsync(session.ClientId, frame.Data!);
        }
        catch (Exception ex)
        {
            call = Task.FromException(ex);
        }

        return AcknowledgeAsync(session, frame, "send", call);
    }

    /// <summary>A keyed <c>send</c>: the recipient's grain takes it at most once per (sender, key) and answers its seq.</summary>
    private Task SendOnceAsync(ClientSession session, ClientFrame frame)
    {
        Task<Accepted> call;
        try
        {
            call = grains.Client(frame.To!).SendOnceAsync(session.ClientId, frame.Data!, frame.Key!);
        }
        catch (Exception ex)
        {
            call = Task.FromException<Accepted>(ex);
        }

        return AcknowledgeOnceAsync(session, frame, "send", channel: false, call);
    }

    /// <summary>
    /// A <c>send</c>, keyed or not, made one-way with a ticket: the recipient's grain queues the answer on its silo's
    /// push to this edge (<see cref="SendTickets"/>), saving the response message per send.
    /// </summary>
    private Task SendTicketedAsync(ClientSession session, ClientFrame frame)
    {
        var reply = new SendReply(session, frame.Id, frame.Key is not null, logger);
        var ticket = tickets.Issue(reply);
        if (_batchSends && !EdgeTracing.IsRecording)
        {
            batcher.Enqueue(new OutboundSend(frame.To!, session.ClientId, frame.Data!, frame.Key, ticket));
            return reply.Task;
        }

        Task sent;
        try
        {
            sent = grains.Client(frame.To!).SendOneWayAsync(session.ClientId, frame.Data!, frame.Key, tickets.EdgeId, ticket);
        }
        catch (Exception ex)
        {
            sent = Task.FromException(ex);
        }

        if (!sent.IsCompletedSuccessfully)
        {
            // A one-way call completes once queued; one that failed to leave fails its ticket now, not at the timeout.
            _ = FailTicketOnFaultAsync(sent, ticket);
        }

        return reply.Task;
    }

    private async Task FailTicketOnFaultAsync(Task sent, long ticket)
    {
        try
        {
            await sent;
        }
        catch (Exception ex)
        {
            tickets.Fail(ticket, ex);
        }
    }

    /// <summary>As <see cref="AcknowledgeAsync"/> and <see cref="AcknowledgeOnceAsync"/>, for a ticketed <c>send</c>'s answer.</summary>
    private sealed class SendReply(ClientSession session, string? id, bool keyed, ILogger logger) : PendingSend
    {
        protected override void OnAnswer(SendAck ack) => session.Send(ack.Outcome switch
        {
            SendOutcome.Accepted when !keyed => JsonFrameCodec.Ok(id),
            SendOutcome.Accepted => JsonFrameCodec.Accepted(id, channel: false, ack.Seq, duplicate: false),
            SendOutcome.Duplicate => JsonFrameCodec.Accepted(id, channel: false, ack.Seq, duplicate: true),
            SendOutcome.KeyReused => JsonFrameCodec.Error(id, ErrorCodes.BadRequest, KeyReused),
            _ => Unavailable(), // the grain logged why
        });

        protected override void OnNoAnswer(Exception exception)
        {
            // Timed out or not sent: taken or not, the client may retry (with the same key, to have it once only).
            Log.ClusterCallFailed(logger, exception, "send", session.ClientId);
            session.Send(Unavailable());
        }

        private byte[] Unavailable() => JsonFrameCodec.Error(
            id,
            ErrorCodes.Unavailable,
            keyed ? "the cluster could not take the message; retry with the same key" : "the cluster could not take the message; retry");
    }
}
