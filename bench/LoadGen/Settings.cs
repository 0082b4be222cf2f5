using System.Globalization;

namespace OrleansGateway.Bench.LoadGen;

/// <summary><c>--key=value</c> arguments, with defaults given at the point of use and echoed in every result line.</summary>
internal sealed class Settings(Dictionary<string, string> values)
{
    public static Settings Parse(IEnumerable<string> args)
    {
        var values = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var arg in args)
        {
            if (!arg.StartsWith("--", StringComparison.Ordinal))
            {
                throw new ArgumentException($"expected --key=value, got '{arg}'");
            }

            var eq = arg.IndexOf('=');
            values[eq < 0 ? arg[2..] : arg[2..eq]] = eq < 0 ? "true" : arg[(eq + 1)..];
        }

        return new Settings(values);
    }

    public string Str(string key, string fallback) => values.GetValueOrDefault(key) ?? fallback;

    public string? OptionalStr(string key) => values.GetValueOrDefault(key);

    public int Int(string key, int fallback) => values.TryGetValue(key, out var v) ? int.Parse(v, CultureInfo.InvariantCulture) : fallback;

    public double Double(string key, double fallback) => values.TryGetValue(key, out var v) ? double.Parse(v, CultureInfo.InvariantCulture) : fallback;

    public string[] List(string key) =>
        values.TryGetValue(key, out var v) ? v.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) : [];

    public int[] Ints(string key) => [.. List(key).Select(s => int.Parse(s, CultureInfo.InvariantCulture))];

    public double[] Doubles(string key, double[] fallback) =>
        values.ContainsKey(key) ? [.. List(key).Select(s => double.Parse(s, CultureInfo.InvariantCulture))] : fallback;
}
