using System.Diagnostics;
using System.Net.Sockets;
using Microsoft.Extensions.Configuration;

namespace OrleansGateway.IntegrationTests.Fixtures;

/// <summary>
/// A real <c>redis-server</c> on a free loopback port, started for the tests. A missing redis-server fails the
/// run (CI installs it): clustering on Redis is a promise, not an optional extra.
/// </summary>
public sealed class RedisServer : IDisposable
{
    private readonly string _directory;
    private readonly bool _persistent;
    private Process _process;

    /// <param name="persistent">Append-only file, fsync on every write: a restart keeps everything (as production must).</param>
    public RedisServer(bool persistent = false)
    {
        Port = GatewayCluster.FreeTcpPort();
        _persistent = persistent;
        _directory = Directory.CreateTempSubdirectory("ogw-redis-").FullName;
        _process = Start();
    }

    public int Port { get; }

    public string ConnectionString => $"127.0.0.1:{Port}";

    /// <summary>Kills the server (SIGKILL: with appendfsync always every acknowledged write is already on disk) and starts it again on the same port and data.</summary>
    public void Stop()
    {
        _process.Kill(entireProcessTree: false);
        _process.WaitForExit(10_000);
        _process.Dispose();
    }

    public void Restart() => _process = Start();

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            _process.WaitForExit(5_000);
        }

        _process.Dispose();
        Directory.Delete(_directory, recursive: true);
    }

    private Process Start()
    {
        var start = new ProcessStartInfo("redis-server",
            ["--port", Port.ToString(), "--bind", "127.0.0.1", "--dir", _directory, "--save", "",
             "--appendonly", _persistent ? "yes" : "no", "--appendfsync", "always"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        Process process;
        try
        {
            process = Process.Start(start)!;
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            throw new InvalidOperationException("redis-server is not installed: `apt-get install -y redis-server` (CI does it in .ci/run).", ex);
        }

        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        WaitForPort(process);
        return process;
    }

    private void WaitForPort(Process process)
    {
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (true)
        {
            try
            {
                using var client = new TcpClient();
                client.Connect("127.0.0.1", Port);
                return;
            }
            catch (SocketException) when (DateTime.UtcNow < deadline && !process.HasExited)
            {
                Thread.Sleep(20); // polling a port that is not open yet; no async context in a constructor
            }
        }
    }
}

/// <summary>Two silos and two edges clustered through Redis membership, like production.</summary>
public class RedisGatewayCluster : GatewayCluster
{
    private readonly RedisServer _redis;

    public RedisGatewayCluster() : this(silos: 2)
    {
    }

    protected RedisGatewayCluster(int silos, bool persistent = false) : base(silos, edges: 2)
    {
        _redis = new RedisServer(persistent);
        Redis = _redis.ConnectionString;
    }

    public RedisServer Server => _redis;

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        _redis.Dispose();
    }
}

/// <summary>Three silos and two edges on Redis membership, for rolling restarts (no silo is special).</summary>
public sealed class ThreeSiloRedisCluster() : RedisGatewayCluster(silos: 3);

/// <summary>Redis clustering and durable (Redis) mailboxes: a silo crash loses no acknowledged message.</summary>
public sealed class DurableRedisCluster() : RedisGatewayCluster(silos: 2)
{
    protected override IEnumerable<KeyValuePair<string, string?>> CommonConfiguration() =>
        [.. base.CommonConfiguration(), new("Gateway:Mailbox:Durability", "Redis")];
}

/// <summary>
/// Durable (Redis) mailboxes whose Redis every silo reaches through a <see cref="TcpProxy"/> (membership goes direct),
/// for faults between the silos and the mailbox Redis. A 2 s async timeout: a command to an unreachable Redis fails
/// before the edge's call timeout.
/// </summary>
public sealed class ProxiedDurableRedisCluster : RedisGatewayCluster
{
    public ProxiedDurableRedisCluster() : base(silos: 2)
    {
        MailboxProxy = new TcpProxy(new Uri($"tcp://{Server.ConnectionString}"));
    }

    internal TcpProxy MailboxProxy { get; }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        await MailboxProxy.DisposeAsync();
    }

    protected override IEnumerable<KeyValuePair<string, string?>> CommonConfiguration() =>
    [
        .. base.CommonConfiguration(),
        new("Gateway:Mailbox:Durability", "Redis"),
        new("Gateway:Mailbox:Redis", $"127.0.0.1:{MailboxProxy.Port},asyncTimeout=2000"),
    ];
}

/// <summary>
/// Redis clustering on a Redis with persistence, for Redis outages under traffic. Silos re-read the membership table
/// and publish their liveness every <see cref="MembershipRefresh"/> (Orleans' defaults: 1 and 5 minutes), so an
/// outage of a few seconds spans several refreshes on every host (edges refresh their gateway list every 5 s).
/// </summary>
public class PersistentRedisCluster() : RedisGatewayCluster(silos: 2, persistent: true)
{
    public static readonly TimeSpan MembershipRefresh = TimeSpan.FromSeconds(1);

    /// <summary>The edges' gateway list refresh from Redis (<c>GatewayListRefreshPeriod</c> in <c>AddGatewayClient</c>).</summary>
    public static readonly TimeSpan GatewayListRefresh = TimeSpan.FromSeconds(5);

    protected override void ConfigureSilo(ISiloBuilder silo, IConfiguration configuration) =>
        silo.Configure<Orleans.Configuration.ClusterMembershipOptions>(o =>
        {
            o.TableRefreshTimeout = MembershipRefresh;
            o.IAmAliveTablePublishTimeout = MembershipRefresh;
        });
}

/// <summary>As <see cref="PersistentRedisCluster"/>, with durable (Redis) mailboxes on the same Redis.</summary>
public sealed class DurablePersistentRedisCluster : PersistentRedisCluster
{
    protected override IEnumerable<KeyValuePair<string, string?>> CommonConfiguration() =>
        [.. base.CommonConfiguration(), new("Gateway:Mailbox:Durability", "Redis")];
}
