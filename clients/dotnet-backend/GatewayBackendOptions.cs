using System.Text.Json;

namespace OrleansGateway.Backend;

/// <summary>How <see cref="IGatewayBackend"/> names itself and serializes messages.</summary>
public sealed class GatewayBackendOptions
{
    /// <summary>Default for <see cref="Name"/>.</summary>
    public const string DefaultName = "backend";

    /// <summary>The <c>from</c> clients see on this backend's messages and publications.</summary>
    public string Name { get; set; } = DefaultName;

    /// <summary>How messages become the JSON clients receive as <c>data</c>; web defaults (camelCase) unless set.</summary>
    public JsonSerializerOptions SerializerOptions { get; set; } = new(JsonSerializerDefaults.Web);
}
