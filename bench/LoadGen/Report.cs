using System.Globalization;
using System.Text.Json;

namespace OrleansGateway.Bench.LoadGen;

/// <summary>One result: printed as ONE JSON line (prefixed <c>RESULT </c>), appended to <c>--out</c>, and as a table.</summary>
internal sealed class Report(string scenario, Settings settings)
{
    private readonly List<KeyValuePair<string, object?>> _fields = [];

    public Report Add(string key, object? value)
    {
        _fields.Add(new(key, value is double d ? (double.IsFinite(d) ? Math.Round(d, 3) : null) : value));
        return this;
    }

    public void Emit()
    {
        var all = new List<KeyValuePair<string, object?>>
        {
            new("scenario", scenario),
            new("target", settings.Str("target", "orleans")),
            new("utc", DateTime.UtcNow.ToString("O", CultureInfo.InvariantCulture)),
        };
        all.AddRange(_fields);
        var line = JsonSerializer.Serialize(all.ToDictionary(kv => kv.Key, kv => kv.Value));
        Console.WriteLine("RESULT " + line);
        if (settings.OptionalStr("out") is { } path)
        {
            File.AppendAllText(path, line + Environment.NewLine);
        }

        var width = all.Max(kv => kv.Key.Length);
        Console.WriteLine($"+-- {scenario} ({settings.Str("target", "orleans")}) " + new string('-', Math.Max(0, 50 - scenario.Length)));
        foreach (var (key, value) in all.Skip(3))
        {
            var text = value switch
            {
                double d => d.ToString("0.###", CultureInfo.InvariantCulture),
                null => "-",
                _ => Convert.ToString(value, CultureInfo.InvariantCulture),
            };
            Console.WriteLine($"| {key.PadRight(width)} | {text}");
        }

        Console.WriteLine("+" + new string('-', 60));
    }
}

/// <summary>Latency samples (nanoseconds) filled concurrently by receive callbacks.</summary>
internal sealed class Latencies(int capacity)
{
    private readonly long[] _samples = new long[Math.Max(capacity, 1024)];
    private int _count;
    private long _dropped;

    public void Add(long nanoseconds)
    {
        var i = Interlocked.Increment(ref _count) - 1;
        if (i < _samples.Length)
        {
            _samples[i] = nanoseconds;
        }
        else
        {
            Interlocked.Increment(ref _dropped);
        }
    }

    /// <summary>p50, p90, p99, max in milliseconds (NaN when empty).</summary>
    public (double P50, double P90, double P99, double Max, int Count) Summary()
    {
        var n = Math.Min(Volatile.Read(ref _count), _samples.Length);
        if (n == 0)
        {
            return (double.NaN, double.NaN, double.NaN, double.NaN, 0);
        }

        var sorted = _samples[..n];
        Array.Sort(sorted);
        double At(double q) => sorted[Math.Min(n - 1, (int)(q * n))] / 1e6;
        return (At(0.50), At(0.90), At(0.99), sorted[^1] / 1e6, n);
    }
}
