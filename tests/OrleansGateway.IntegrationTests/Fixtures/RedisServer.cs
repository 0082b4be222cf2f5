using System.Diagnostics;
using System.Net.Sockets;

namespace OrleansGateway.IntegrationTests.Fixtures;

/// <summary>
/// A real <c>redis-server</c> on a free loopback port, started for the tests. A missing redis-server fails the
/// run (CI installs it): clustering on Redis is a promise, not an optional extra.
/// </summary>
public sealed class RedisServer : IDisposable
{
    private readonly Process _process;
    private readonly string _directory;

    public RedisServer()
    {
        Port = GatewayCluster.FreeTcpPort();
        _directory = Directory.CreateTempSubdirectory("ogw-redis-").FullName;
        var start = new ProcessStartInfo("redis-server",
            ["--port", Port.ToString(), "--bind", "127.0.0.1", "--dir", _directory, "--save", "", "--appendonly", "no"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        try
        {
            _process = Process.Start(start)!;
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            throw new InvalidOperationException("redis-server is not installed: `apt-get install -y redis-server` (CI does it in .ci/run).", ex);
        }

        _process.OutputDataReceived += (_, _) => { };
        _process.ErrorDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        WaitForPort();
    }

    public int Port { get; }

    public string ConnectionString => $"127.0.0.1:{Port}";

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

    private void WaitForPort()
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
            catch (SocketException) when (DateTime.UtcNow < deadline && !_process.HasExited)
            {
                Thread.Sleep(20); // polling a port that is not open yet; no async context in a constructor
            }
        }
    }
}

/// <summary>Two silos and two edges clustered through Redis membership, like production.</summary>
public class RedisGatewayCluster : GatewayCluster
{
    private readonly RedisServer _redis = new();

    public RedisGatewayCluster() : this(silos: 2)
    {
    }

    protected RedisGatewayCluster(int silos) : base(silos, edges: 2) => Redis = _redis.ConnectionString;

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

    /// <summary>Settings for a silo process joining this cluster.</summary>
    public Dictionary<string, string?> SiloSettings() => CommonConfiguration()
        .Concat([new("Gateway:Mailbox:MaxMessages", RetainedMessages.ToString())])
        .ToDictionary(kv => kv.Key, kv => kv.Value);
}
