using System.Text.RegularExpressions;

namespace OrleansGateway.EdgeHost.Auth;

internal static partial class ChannelNames
{
    public const int MaxLength = 128;

    /// <summary>1–128 chars of <c>[A-Za-z0-9._:@/-]</c>; <c>*</c> is reserved for patterns.</summary>
    public static bool IsValid(string? channel) => channel is { Length: >= 1 and <= MaxLength } && Pattern().IsMatch(channel);

    /// <summary>Whether <paramref name="patterns"/> (exact names, or a prefix ending in <c>*</c>) allow <paramref name="channel"/>.</summary>
    public static bool IsAllowed(IReadOnlyList<string> patterns, string channel)
    {
        foreach (var pattern in patterns)
        {
            if (pattern.EndsWith('*')
                ? channel.StartsWith(pattern.AsSpan(0, pattern.Length - 1), StringComparison.Ordinal)
                : pattern == channel)
            {
                return true;
            }
        }

        return false;
    }

    [GeneratedRegex("^[A-Za-z0-9._:@/-]+$", RegexOptions.CultureInvariant)]
    private static partial Regex Pattern();
}
