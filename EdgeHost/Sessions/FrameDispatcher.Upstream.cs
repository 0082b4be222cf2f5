using OrleansGateway.EdgeHost.Protocol;
using OrleansGateway.EdgeHost.Upstream;
using OrleansGateway.Grains;

namespace OrleansGateway.EdgeHost.Sessions;

/// <summary>The <c>up</c> frame: a client's message to a backend through the upstream broker (Kafka or the memory stream).</summary>
internal sealed partial class FrameDispatcher
{
    private async Task UpAsync(ClientSession session, ClientFrame frame)
    {
        if (frame.Topic!.Length is 0 or > 249)
        {
            session.Send(JsonFrameCodec.Error(frame.Id, ErrorCodes.BadRequest, "topic must be 1-249 characters"));
            return;
        }

        if (frame.Key is { } key)
        {
            await UpOnceAsync(session, frame, key);
            return;
        }

        try
        {
            await upstream.PublishAsync(session.ClientId, frame.Topic, frame.Data!, null, CancellationToken.None);
        }
        catch (UpstreamUnavailableException ex)
        {
            Log.UpstreamUnavailable(logger, ex, session.ClientId);
            session.Send(JsonFrameCodec.Error(frame.Id, ErrorCodes.Unavailable, "the broker could not take the message; retry"));
            return;
        }

        session.Send(JsonFrameCodec.Ok(frame.Id));
    }

    /// <summary>
    /// A keyed <c>up</c>: the sender's client grain owns the window (a repeat from any session on any edge is
    /// recognised), asked before producing and told after the broker acknowledged. Two sessions repeating one key at
    /// the same instant may both produce it; the record's <c>ogw-key</c> header lets consumers drop the second.
    /// </summary>
    private async Task UpOnceAsync(ClientSession session, ClientFrame frame, string key)
    {
        var topic = frame.Topic!;
        var hash = IdempotencyKeys.Hash(frame.Data);
        var sender = grains.Client(session.ClientId);
        try
        {
            if (await sender.WasUpstreamProducedAsync(topic, key, hash))
            {
                session.Send(JsonFrameCodec.Ok(frame.Id, duplicate: true));
                return;
            }
        }
        catch (IdempotencyKeyReusedException)
        {
            session.Send(JsonFrameCodec.Error(frame.Id, ErrorCodes.BadRequest, KeyReused));
            return;
        }
        catch (Exception ex)
        {
            Log.ClusterCallFailed(logger, ex, "up", session.ClientId);
            session.Send(JsonFrameCodec.Error(frame.Id, ErrorCodes.Unavailable, "the cluster could not check the key; retry"));
            return;
        }

        try
        {
            await upstream.PublishAsync(session.ClientId, topic, frame.Data!, key, CancellationToken.None);
        }
        catch (UpstreamUnavailableException ex)
        {
            Log.UpstreamUnavailable(logger, ex, session.ClientId);
            session.Send(JsonFrameCodec.Error(frame.Id, ErrorCodes.Unavailable, "the broker could not take the message; retry"));
            return;
        }

        try
        {
            await sender.UpstreamProducedAsync(topic, key, hash);
        }
        catch (Exception ex)
        {
            // The broker has it, so the answer is ok; only a repeat of this key may now be produced again (the
            // ogw-key header lets consumers drop it).
            Log.UpstreamKeyNotRecorded(logger, ex, session.ClientId);
        }

        session.Send(JsonFrameCodec.Ok(frame.Id));
    }
}
