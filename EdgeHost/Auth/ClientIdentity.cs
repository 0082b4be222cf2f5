using System.Text.RegularExpressions;

namespace OrleansGateway.EdgeHost.Auth;

/// <summary>Who a session is: the client id (JWT <c>sub</c>), its channel patterns and when its token expires.</summary>
internal sealed record ClientIdentity(string ClientId, IReadOnlyList<string> ChannelPatterns, DateTimeOffset ExpiresAt);

internal static partial class ClientIds
{
    /// <summary>1–128 chars of <c>[A-Za-z0-9._:@-]</c> (docs/protocol.md).</summary>
    public static bool IsValid(string? id) => id is { Length: >= 1 and <= 128 } && Pattern().IsMatch(id);

    [GeneratedRegex("^[A-Za-z0-9._:@-]+$", RegexOptions.CultureInvariant)]
    private static partial Regex Pattern();
}
