using System.Buffers;
using System.Text.Json;

namespace OrleansGateway.Grains;

/// <summary>
/// The JSON form of a <see cref="LifecycleEvent"/> (docs/events.md): the value of a Kafka record on the events topic.
/// Schema version <see cref="Version"/> in field <c>v</c>: fields may be added within a version (readers ignore what
/// they do not know); a change that breaks readers gets a new version.
/// </summary>
public static class LifecycleEventJson
{
    /// <summary>The schema version this gateway writes and reads.</summary>
    public const int Version = 1;

    /// <summary>Writes <paramref name="e"/> as one JSON object to <paramref name="output"/>.</summary>
    public static void Write(LifecycleEvent e, IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(e);
        using var json = new Utf8JsonWriter(output);
        json.WriteStartObject();
        json.WriteNumber("v", Version);
        json.WriteString("t", LifecycleEvents.Name(e.Kind));
        json.WriteString("client", e.ClientId);
        json.WriteString("edge", e.EdgeId);
        json.WriteNumber("session", e.SessionId);
        json.WriteNumber("at", e.AtUnixMs);
        switch (e.Kind)
        {
            case LifecycleEventKinds.Connected:
                json.WriteBoolean("resumed", e.Resumed);
                json.WriteBoolean("recovered", e.Recovered);
                break;
            case LifecycleEventKinds.Disconnected:
                json.WriteString("reason", e.Reason ?? "unknown");
                if (e.Code is { } code)
                {
                    json.WriteNumber("code", code);
                }

                break;
            default:
                json.WriteString("ch", e.Channel);
                break;
        }

        json.WriteEndObject();
    }

    /// <summary>The UTF-8 JSON of <paramref name="e"/>.</summary>
    public static byte[] ToUtf8(LifecycleEvent e)
    {
        var buffer = new ArrayBufferWriter<byte>(160);
        Write(e, buffer);
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>
    /// Reads one event. False for another schema version, a kind this reader does not know (a newer gateway's: skip
    /// it), or a missing required field.
    /// </summary>
    /// <exception cref="JsonException">Not JSON, or not an object.</exception>
    public static bool TryRead(ReadOnlySpan<byte> utf8, out LifecycleEvent? e)
    {
        e = null;
        var reader = new Utf8JsonReader(utf8);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            throw new JsonException("a lifecycle event is a JSON object");
        }

        int? version = null;
        long? session = null, at = null;
        int? code = null;
        string? kind = null, client = null, edge = null, reason = null, channel = null;
        bool resumed = false, recovered = false;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var name = reader.GetString();
            reader.Read();
            switch (name)
            {
                case "v": version = reader.GetInt32(); break;
                case "t": kind = reader.GetString(); break;
                case "client": client = reader.GetString(); break;
                case "edge": edge = reader.GetString(); break;
                case "session": session = reader.GetInt64(); break;
                case "at": at = reader.GetInt64(); break;
                case "resumed": resumed = reader.GetBoolean(); break;
                case "recovered": recovered = reader.GetBoolean(); break;
                case "reason": reason = reader.GetString(); break;
                case "code": code = reader.GetInt32(); break;
                case "ch": channel = reader.GetString(); break;
                default: reader.Skip(); break;
            }
        }

        var parsed = LifecycleEvents.Parse(kind);
        if (version != Version || parsed == LifecycleEventKinds.None || client is null || edge is null || session is null || at is null)
        {
            return false;
        }

        e = new LifecycleEvent(parsed, client, edge, session.Value, at.Value)
        {
            Resumed = resumed,
            Recovered = recovered,
            Reason = reason,
            Code = code,
            Channel = channel,
        };
        return true;
    }
}
