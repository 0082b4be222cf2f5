using System.Diagnostics;
using OrleansGateway.EdgeHost.Protocol;
using OrleansGateway.EdgeHost.Sessions;
using OrleansGateway.Grains;

namespace OrleansGateway.EdgeHost.Diagnostics;

/// <summary>
/// The edge's spans (source <see cref="SourceName"/>): a client frame and the grain call it makes, the delivery of a
/// traced message to local sessions, attaches and resumes, drains. Every entry point first asks
/// <see cref="ActivitySource.HasListeners"/>: with tracing off (no tracer provider listening) that one check is all a
/// message costs, with no allocation.
/// </summary>
/// <remarks>
/// Frame, attach and drain spans are roots: the WebSocket's HTTP request activity (ASP.NET Core makes one for its log
/// scopes even with nothing listening) lives as long as the connection and is never sampled, so a child of it would be
/// dropped by a parent-based sampler, or put every frame of a connection into one endless trace.
/// </remarks>
internal static class EdgeTracing
{
    public const string SourceName = "OrleansGateway.EdgeHost";

    private static readonly ActivitySource Source = new(SourceName);

    /// <summary>
    /// True when a tracer listens to the edge's spans: then each <c>send</c> is called alone, under its frame's span, so
    /// Orleans carries that span's context to the grain (a batch would carry one context for all its sends).
    /// </summary>
    public static bool IsRecording => Source.HasListeners();

    /// <summary>
    /// Dispatches <paramref name="frame"/> through <paramref name="dispatch"/>, inside a span when tracing is on. The
    /// grain call the frame makes runs under that span, so Orleans' activity propagation carries its context to the silo.
    /// </summary>
    public static Task DispatchAsync(FrameDispatcher dispatcher, ClientSession session, ClientFrame frame, Func<FrameDispatcher, ClientSession, ClientFrame, Task> dispatch) =>
        Source.HasListeners() && frame.Type is not ClientFrameType.Ping
            ? TracedDispatchAsync(dispatcher, session, frame, dispatch)
            : dispatch(dispatcher, session, frame);

    /// <summary>
    /// Records the hand-over of each traced message in <paramref name="messages"/> to <paramref name="sessions"/> local
    /// sessions, as a child of the trace the message carries (<see cref="StreamMessage.TraceParent"/>). Pushes are
    /// batched per edge on the silo, so the context comes with each message, not with the call; the call's own span,
    /// when there is one, is linked.
    /// </summary>
    public static void Delivered(string kind, string target, IReadOnlyList<StreamMessage> messages, int sessions)
    {
        if (!Source.HasListeners())
        {
            return;
        }

        var call = Activity.Current;
        foreach (var message in messages)
        {
            if (message.TraceParent is null || !ActivityContext.TryParse(message.TraceParent, null, isRemote: true, out var parent))
            {
                continue;
            }

            ActivityLink[]? links = call is null ? null : [new ActivityLink(call.Context)];
            using var span = Source.StartActivity($"deliver {kind}", ActivityKind.Consumer, parent, links: links);
            if (span is { IsAllDataRequested: true })
            {
                span.SetTag(kind == "message" ? "ogw.client_id" : "ogw.channel", target);
                span.SetTag("ogw.seq", message.Seq);
                span.SetTag("ogw.sessions", sessions);
            }
        }
    }

    /// <summary>Attaches (or resumes, with <paramref name="lastSeq"/>) inside a span when tracing is on.</summary>
    public static Task<StreamReplay> AttachAsync(ClientSession session, long? lastSeq, Func<ClientSession, long?, Task<StreamReplay>> attach) =>
        Source.HasListeners() ? TracedAttachAsync(session, lastSeq, attach) : attach(session, lastSeq);

    /// <summary>A drain of this edge, as a root span; null when tracing is off.</summary>
    public static Activity? StartDrain(int sessions)
    {
        if (!Source.HasListeners())
        {
            return null;
        }

        Activity.Current = null;
        var span = Source.StartActivity("drain", ActivityKind.Internal);
        span?.SetTag("ogw.sessions", sessions);
        return span;
    }

    private static async Task TracedDispatchAsync(FrameDispatcher dispatcher, ClientSession session, ClientFrame frame, Func<FrameDispatcher, ClientSession, ClientFrame, Task> dispatch)
    {
        // An async method: what it sets as Activity.Current does not flow back into the session's receive loop.
        Activity.Current = null;
        using var span = Source.StartActivity(FrameName(frame.Type), ActivityKind.Server);
        if (span is { IsAllDataRequested: true })
        {
            span.SetTag("ogw.client_id", session.ClientId);
            if (frame.To is not null)
            {
                span.SetTag("ogw.to", frame.To);
            }

            if (frame.Channel is not null)
            {
                span.SetTag("ogw.channel", frame.Channel);
            }
        }

        await dispatch(dispatcher, session, frame);
    }

    private static async Task<StreamReplay> TracedAttachAsync(ClientSession session, long? lastSeq, Func<ClientSession, long?, Task<StreamReplay>> attach)
    {
        Activity.Current = null;
        using var span = Source.StartActivity(lastSeq is null ? "attach" : "resume", ActivityKind.Server);
        span?.SetTag("ogw.client_id", session.ClientId);
        try
        {
            var result = await attach(session, lastSeq);
            if (span is { IsAllDataRequested: true })
            {
                span.SetTag("ogw.recovered", result.Recovered);
                span.SetTag("ogw.replayed", result.Replay.Count);
                span.SetTag("ogw.session_limit_reached", result.SessionLimitReached);
            }

            return result;
        }
        catch (Exception ex)
        {
            span?.SetStatus(ActivityStatusCode.Error, ex.GetType().Name);
            throw;
        }
    }

    private static string FrameName(ClientFrameType type) => type switch
    {
        ClientFrameType.Send => "send",
        ClientFrameType.Pub => "pub",
        ClientFrameType.Sub => "sub",
        ClientFrameType.Unsub => "unsub",
        ClientFrameType.Up => "up",
        ClientFrameType.Auth => "auth",
        _ => "frame",
    };
}
