using System.Collections.Concurrent;
using System.Net;
using Microsoft.Extensions.Options;
using OrleansGateway.EdgeHost.Configuration;

namespace OrleansGateway.EdgeHost.Sessions;

/// <summary>
/// Per-edge admission limits checked before an upgrade: handshakes per second, connections per source IP and
/// sessions per client id. A refusal is a 503 with Retry-After, never a half-open session.
/// </summary>
internal sealed class EdgeAdmission(IOptions<LimitsOptions> options, SessionRegistry registry, TimeProvider time)
{
    private readonly LimitsOptions _limits = options.Value;
    private readonly TokenBucket _handshakes = new(options.Value.HandshakesPerSecond, options.Value.HandshakesPerSecond * 2, time);
    private readonly ConcurrentDictionary<IPAddress, int> _perIp = new();

    /// <summary>Null when admitted (the IP slot is then held until <see cref="Release"/>); otherwise why not.</summary>
    public string? TryAdmit(IPAddress? ip, string clientId)
    {
        lock (_handshakes)
        {
            if (!_handshakes.TryTake())
            {
                return "edge handshake rate exceeded";
            }
        }

        if (registry.Get(clientId).Length >= _limits.MaxSessionsPerClient)
        {
            return "too many sessions of this client on this edge";
        }

        if (ip is not null && _perIp.AddOrUpdate(ip, 1, static (_, n) => n + 1) > _limits.MaxConnectionsPerIp)
        {
            Release(ip);
            return "too many connections from this address";
        }

        return null;
    }

    public void Release(IPAddress? ip)
    {
        if (ip is null)
        {
            return;
        }

        if (_perIp.AddOrUpdate(ip, 0, static (_, n) => n - 1) <= 0)
        {
            _perIp.TryRemove(new KeyValuePair<IPAddress, int>(ip, 0));
        }
    }
}
