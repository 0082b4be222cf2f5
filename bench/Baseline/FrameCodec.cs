using System.Buffers;
using System.Text.Json;

namespace OrleansGateway.Bench.Baseline;

/// <summary>The client frame fields the baseline needs.</summary>
internal sealed record Frame(string? Type, string? Id, string? To, string? Channel, byte[]? Data);

/// <summary>Reads client frames and writes server frames of <c>ogw.v1.json</c> (the subset the baseline serves).</summary>
internal static class FrameCodec
{
    public const string SubProtocol = "ogw.v1.json";

    public static bool IsValidId(string id) =>
        id.Length is >= 1 and <= 128 && id.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or ':' or '@' or '-');

    /// <summary>Null for anything that is not a JSON object with string fields where strings are expected.</summary>
    public static Frame? TryParse(ReadOnlySpan<byte> utf8)
    {
        try
        {
            var reader = new Utf8JsonReader(utf8);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return null;
            }

            string? type = null, id = null, to = null, ch = null;
            byte[]? data = null;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var name = reader.GetString();
                reader.Read();
                switch (name)
                {
                    case "t": type = reader.GetString(); break;
                    case "id": id = reader.GetString(); break;
                    case "to": to = reader.GetString(); break;
                    case "ch": ch = reader.GetString(); break;
                    case "data":
                        var start = (int)reader.TokenStartIndex;
                        reader.Skip();
                        data = utf8[start..(int)reader.BytesConsumed].ToArray();
                        break;
                    default: reader.Skip(); break;
                }
            }

            return new Frame(type, id, to, ch, data);
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException)
        {
            return null;
        }
    }

    public static byte[] Welcome(string client, long seq) =>
        Write(w => { w.WriteString("t", "welcome"); w.WriteString("client", client); w.WriteNumber("seq", seq); w.WriteBoolean("recovered", true); w.WriteNumber("hb", 25); });

    public static byte[] Message(long seq, string from, byte[] data) =>
        Write(w => { w.WriteString("t", "msg"); w.WriteNumber("seq", seq); w.WriteString("from", from); w.WritePropertyName("data"); w.WriteRawValue(data, skipInputValidation: true); });

    public static byte[] Publication(string channel, long off, string from, byte[] data) =>
        Write(w => { w.WriteString("t", "pub"); w.WriteString("ch", channel); w.WriteNumber("off", off); w.WriteString("from", from); w.WritePropertyName("data"); w.WriteRawValue(data, skipInputValidation: true); });

    public static byte[] Ok(string? id, long? off = null) =>
        Write(w =>
        {
            w.WriteString("t", "ok");
            if (id is not null)
            {
                w.WriteString("id", id);
            }

            if (off is { } o)
            {
                w.WriteNumber("off", o);
                w.WriteBoolean("recovered", true);
            }
        });

    public static byte[] Pong(string? id) => Write(w => { w.WriteString("t", "pong"); if (id is not null) { w.WriteString("id", id); } });

    public static byte[] Error(string? id, string code, string message) =>
        Write(w => { w.WriteString("t", "err"); if (id is not null) { w.WriteString("id", id); } w.WriteString("code", code); w.WriteString("msg", message); });

    private static byte[] Write(Action<Utf8JsonWriter> body)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            body(writer);
            writer.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }
}
