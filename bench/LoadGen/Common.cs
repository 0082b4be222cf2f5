using System.Diagnostics;

namespace OrleansGateway.Bench.LoadGen;

/// <summary>What every scenario shares: edges, tokens, a run id for unique client ids, bounded parallel connects.</summary>
internal sealed class Common
{
    public Common(Settings s)
    {
        Settings = s;
        Edges = [.. s.List("edges").Select(e => new Uri(e))];
        if (Edges.Length == 0)
        {
            throw new ArgumentException("--edges=ws://host:port[,…] is required");
        }

        Tokens = Tokens.From(s);
        Procs = ServerProcs.From(s);
        Run = s.Str("run", Guid.NewGuid().ToString("N")[..8]);
    }

    public Settings Settings { get; }

    public Uri[] Edges { get; }

    public Tokens Tokens { get; }

    public List<ServerProc> Procs { get; }

    public string Run { get; }

    public IEnumerable<ServerProc> EdgeProcs => Procs.Where(p => p.Role == "edge");

    public IEnumerable<ServerProc> SiloProcs => Procs.Where(p => p.Role == "silo");

    /// <summary>Connects every (conn, edge) pair, at most <paramref name="parallel"/> at once; each waits for its welcome.</summary>
    public async Task<ConnectStats> ConnectAllAsync(IReadOnlyList<(Conn Conn, Uri Edge)> targets, int parallel, CancellationToken cancellationToken)
    {
        var stats = new ConnectStats();
        var started = Stopwatch.GetTimestamp();
        await Parallel.ForEachAsync(targets, new ParallelOptions { MaxDegreeOfParallelism = parallel, CancellationToken = cancellationToken }, async (t, ct) =>
        {
            var result = await t.Conn.ConnectWithRetryAsync(t.Edge, Tokens.For(t.Conn.ClientId), null, 20, ct);
            stats.Record(result);
        });
        stats.Seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
        return stats;
    }
}

internal sealed class ConnectStats
{
    private readonly Dictionary<string, int> _failures = [];
    private int _ok;

    public int Ok => _ok;

    public double Seconds { get; set; }

    public int Failed
    {
        get
        {
            lock (_failures)
            {
                return _failures.Values.Sum();
            }
        }
    }

    public void Record(ConnectResult result)
    {
        if (result.Ok)
        {
            Interlocked.Increment(ref _ok);
            return;
        }

        lock (_failures)
        {
            var key = $"{result.Status}: {result.Error}";
            _failures[key] = _failures.GetValueOrDefault(key) + 1;
        }
    }

    public string FailureSummary()
    {
        lock (_failures)
        {
            return _failures.Count == 0 ? "" : string.Join("; ", _failures.OrderByDescending(kv => kv.Value).Take(3).Select(kv => $"{kv.Value}× {kv.Key}"));
        }
    }
}
