namespace OrleansGateway.EdgeHost.Protocol;

internal enum ClientFrameType
{
    Send,
    Sub,
    Unsub,
    Pub,
    Up,
    Ping,
    Auth,
}

/// <summary>
/// A parsed client frame. <see cref="Data"/> is the raw JSON of <c>data</c>, copied out of the receive buffer;
/// <see cref="Key"/> the idempotency key of a <c>send</c>/<c>pub</c>/<c>up</c> (1–64 characters), null when absent.
/// </summary>
internal sealed record ClientFrame(
    ClientFrameType Type,
    string? Id,
    string? To = null,
    string? Channel = null,
    string? Topic = null,
    long? Since = null,
    string? Token = null,
    byte[]? Data = null,
    string? Key = null);

/// <summary>Why a frame was refused: the <c>err</c> code and message, and the <c>id</c> when it could be read.</summary>
internal readonly record struct FrameError(string? Id, string Code, string Message);
