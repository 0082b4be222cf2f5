namespace OrleansGateway.Grains.Edges;

/// <summary>Edge lease timing, shared by silos and edges. Section <c>Gateway:Lease</c>.</summary>
public sealed class EdgeLeaseOptions
{
    public const string SectionName = "Gateway:Lease";

    /// <summary>Default for <see cref="Ttl"/>: 10 seconds.</summary>
    public static readonly TimeSpan DefaultTtl = TimeSpan.FromSeconds(10);

    /// <summary>
    /// How long a lease lasts after a renewal. A crashed edge's sessions are dropped from grains at most
    /// <see cref="Ttl"/> after its last renewal (plus the silo's cached copy, which never outlives the lease).
    /// </summary>
    public TimeSpan Ttl { get; set; } = DefaultTtl;

    /// <summary>How often an edge renews: a third of <see cref="Ttl"/>, so two renewals may fail before it lapses.</summary>
    public TimeSpan RenewInterval => Ttl / 3;
}

internal sealed class EdgeLeaseOptionsValidator : Microsoft.Extensions.Options.IValidateOptions<EdgeLeaseOptions>
{
    public Microsoft.Extensions.Options.ValidateOptionsResult Validate(string? name, EdgeLeaseOptions options) =>
        options.Ttl < TimeSpan.FromSeconds(1) || options.Ttl > TimeSpan.FromMinutes(10)
            ? Microsoft.Extensions.Options.ValidateOptionsResult.Fail(
                $"{EdgeLeaseOptions.SectionName}:Ttl must be between 1 second and 10 minutes (was {options.Ttl}).")
            : Microsoft.Extensions.Options.ValidateOptionsResult.Success;
}
