using Microsoft.AspNetCore.Http.Features;
using OrleansGateway.EdgeHost.Sessions;

namespace OrleansGateway.EdgeHost.Hosting;

/// <summary>
/// Keeps hold of a WebSocket connection's upgraded stream, so the session can wait for the client's answer to a close
/// frame the WebSocket layer sent on its own.
/// </summary>
/// <remarks>
/// When the WebSocket layer fails a connection for a protocol violation (invalid UTF-8 → 1007, a protocol error →
/// 1002) it writes its close frame and enters the Aborted state: it reads nothing more. Disposing the socket then
/// aborts the HTTP connection (ASP.NET Core's upgrade stream does so on dispose), which resets the TCP connection
/// while the client may not yet have read that close frame: measured, the client saw a reset instead of 1007 in about
/// half the runs of <c>BadInputTests.Frame_InvalidUtf8Text_Closed1007AndOthersUnharmed</c>. Reading the client's
/// answering close (or its disconnect) first means the client has read ours.
/// </remarks>
internal sealed class GracefulUpgradeFeature(IHttpUpgradeFeature inner) : IHttpUpgradeFeature, IPeerCloseWaiter
{
    private Stream? _stream;

    public bool IsUpgradableRequest => inner.IsUpgradableRequest;

    public async Task<Stream> UpgradeAsync() => _stream = await inner.UpgradeAsync();

    /// <summary>Installs the feature on upgradable requests; runs before <c>UseWebSockets</c>.</summary>
    public static IApplicationBuilder Use(IApplicationBuilder app) => app.Use((context, next) =>
    {
        if (context.Features.Get<IHttpUpgradeFeature>() is { IsUpgradableRequest: true } upgrade)
        {
            context.Features.Set<IHttpUpgradeFeature>(new GracefulUpgradeFeature(upgrade));
        }

        return next(context);
    });

    /// <summary>
    /// Once the WebSocket layer failed the connection and stopped reading: waits until the client sends anything (its
    /// answering close frame) or disconnects, at most <paramref name="timeout"/>. Only then may the connection be
    /// aborted without losing the close frame the client has not read yet.
    /// </summary>
    public async Task WaitForPeerCloseAsync(TimeSpan timeout, TimeProvider time)
    {
        if (_stream is not { } stream)
        {
            return;
        }

        var buffer = new byte[256];
        using var cts = new CancellationTokenSource(timeout, time);
        try
        {
            _ = await stream.ReadAsync(buffer, cts.Token);
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or ObjectDisposedException or InvalidOperationException)
        {
            // Timed out, or the connection already ended: either way there is nothing more to wait for.
        }
    }
}
