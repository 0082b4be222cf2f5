using Microsoft.Extensions.Options;

namespace OrleansGateway.Silo.Hosting;

/// <summary>Silo process settings. Section <c>Gateway:Silo</c>.</summary>
internal sealed class SiloOptions
{
    public const string SectionName = "Gateway:Silo";

    /// <summary>Default for <see cref="ShutdownTimeout"/>: 90 seconds.</summary>
    public static readonly TimeSpan DefaultShutdownTimeout = TimeSpan.FromSeconds(90);

    /// <summary>
    /// How long a graceful stop may take (grain migration included): the host's <c>HostOptions.ShutdownTimeout</c>.
    /// Must stay below the pod's <c>terminationGracePeriodSeconds</c>.
    /// </summary>
    public TimeSpan ShutdownTimeout { get; set; } = DefaultShutdownTimeout;

    /// <summary>
    /// Use Orleans' Kubernetes hosting (pod-derived silo name and address, cleanup of dead silos' pods). Default:
    /// on when the pod's downward-API variable <c>POD_NAME</c> is set.
    /// </summary>
    public bool? KubernetesHosting { get; set; }
}

internal sealed class SiloOptionsValidator : IValidateOptions<SiloOptions>
{
    public ValidateOptionsResult Validate(string? name, SiloOptions options) =>
        options.ShutdownTimeout <= TimeSpan.Zero
            ? ValidateOptionsResult.Fail($"{SiloOptions.SectionName}:ShutdownTimeout must be positive (was {options.ShutdownTimeout}).")
            : ValidateOptionsResult.Success;
}
