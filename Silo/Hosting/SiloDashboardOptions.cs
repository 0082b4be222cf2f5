using Microsoft.Extensions.Options;

namespace OrleansGateway.Silo.Hosting;

/// <summary>
/// The Orleans dashboard on this silo. Section <c>Gateway:Dashboard</c>. Off by default; when on, it listens on its own
/// port, on loopback only unless told otherwise, and every request on that port needs HTTP basic authentication with
/// <see cref="Username"/> and <see cref="Password"/> (the dashboard has no authentication of its own).
/// </summary>
internal sealed class SiloDashboardOptions
{
    public const string SectionName = "Gateway:Dashboard";

    /// <summary>Default for <see cref="Port"/>: 8090.</summary>
    public const int DefaultPort = 8090;

    /// <summary>Minimum <see cref="Password"/> length: 16 characters.</summary>
    public const int MinPasswordLength = 16;

    /// <summary>Serve the dashboard. Default: false.</summary>
    public bool Enabled { get; set; }

    /// <summary>The dashboard's own HTTP port, apart from health and metrics. Default: <see cref="DefaultPort"/>.</summary>
    public int Port { get; set; } = DefaultPort;

    /// <summary>
    /// Listen on every interface instead of loopback only. Default: false: in Kubernetes the dashboard is reached with
    /// <c>kubectl port-forward</c>, which connects to the pod's loopback, so nothing else in the cluster can reach it.
    /// </summary>
    public bool ListenOnAllInterfaces { get; set; }

    /// <summary>Basic-authentication user name. Required when enabled.</summary>
    public string? Username { get; set; }

    /// <summary>Basic-authentication password, at least <see cref="MinPasswordLength"/> characters. Required when enabled; keep it in a Secret.</summary>
    public string? Password { get; set; }

    public override string ToString() =>
        $"Enabled={Enabled} Port={Port} ListenOnAllInterfaces={ListenOnAllInterfaces} Username={Username} Password={(Password is null ? "(none)" : "*****")}";
}

internal sealed class SiloDashboardOptionsValidator : IValidateOptions<SiloDashboardOptions>
{
    public ValidateOptionsResult Validate(string? name, SiloDashboardOptions options)
    {
        if (!options.Enabled)
        {
            return ValidateOptionsResult.Success;
        }

        var failures = new List<string>();
        if (options.Port is < 1 or > 65535)
        {
            failures.Add($"{SiloDashboardOptions.SectionName}:Port must be between 1 and 65535 (was {options.Port}).");
        }

        if (string.IsNullOrWhiteSpace(options.Username) || options.Username.Contains(':', StringComparison.Ordinal))
        {
            failures.Add($"{SiloDashboardOptions.SectionName}:Username is required when the dashboard is enabled, without ':' (basic authentication).");
        }

        if (options.Password is not { Length: >= SiloDashboardOptions.MinPasswordLength })
        {
            failures.Add($"{SiloDashboardOptions.SectionName}:Password of at least {SiloDashboardOptions.MinPasswordLength} characters is required when the dashboard is enabled: it has no authentication of its own.");
        }

        return failures.Count > 0 ? ValidateOptionsResult.Fail(failures) : ValidateOptionsResult.Success;
    }
}
