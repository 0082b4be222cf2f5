using System.Buffers;
using System.Text.Json;
using System.Text.Unicode;
using OrleansGateway.Grains;

namespace OrleansGateway.EdgeHost.Protocol;

/// <summary>
/// Reads client frames and writes server frames of <c>ogw.v1.json</c>. No sockets, no Orleans: bytes in, bytes out.
/// <c>data</c> passes through as raw JSON, never re-serialized.
/// </summary>
/// <remarks>
/// Over 300 lines: one reader and one writer per frame type of the protocol, in one type so the wire format reads in one
/// place and matches docs/protocol.md line by line (SignalR's <c>JsonHubProtocol</c> is one type for the same reason).
/// </remarks>
internal static class JsonFrameCodec
{
    public const string SubProtocol = "ogw.v1.json";
    public const int MaxIdLength = 64;

    private static readonly JsonReaderOptions ReaderOptions = new() { MaxDepth = 64 };
    private static readonly byte[] NullJson = "null"u8.ToArray();

    [ThreadStatic]
    private static ArrayBufferWriter<byte>? t_buffer;

    [ThreadStatic]
    private static Utf8JsonWriter? t_writer;

    /// <summary>Parses one client frame; on failure <paramref name="error"/> says why (the connection stays).</summary>
    public static bool TryParse(ReadOnlySpan<byte> utf8, out ClientFrame? frame, out FrameError error)
    {
        frame = null;
        string? id = null;
        if (!Utf8.IsValid(utf8))
        {
            error = new FrameError(null, ErrorCodes.BadRequest, "frame is not valid UTF-8");
            return false;
        }

        string? to = null, ch = null, topic = null, token = null, key = null;
        ClientFrameType? kind = null;
        var typeSeen = false;
        var keyInvalid = false;
        long? since = null;
        byte[]? data = null;
        var seen = 0;
        try
        {
            var reader = new Utf8JsonReader(utf8, ReaderOptions);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                error = new FrameError(null, ErrorCodes.BadRequest, "a frame must be a JSON object");
                return false;
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var name = reader.ValueSpan;
                var escaped = reader.ValueIsEscaped;
                reader.Read();
                if (Is(name, escaped, "t"u8, "t"))
                {
                    Once(ref seen, 1, "t");
                    typeSeen = true;
                    kind = ReadType(ref reader);
                }
                else if (Is(name, escaped, "id"u8, "id"))
                {
                    Once(ref seen, 2, "id");
                    id = ReadString(ref reader, "id");
                    if (id.Length > MaxIdLength)
                    {
                        id = null;
                        throw new FrameException($"id is longer than {MaxIdLength} characters");
                    }
                }
                else if (Is(name, escaped, "to"u8, "to"))
                {
                    Once(ref seen, 4, "to");
                    to = ReadString(ref reader, "to");
                }
                else if (Is(name, escaped, "ch"u8, "ch"))
                {
                    Once(ref seen, 8, "ch");
                    ch = ReadString(ref reader, "ch");
                }
                else if (Is(name, escaped, "topic"u8, "topic"))
                {
                    Once(ref seen, 16, "topic");
                    topic = ReadString(ref reader, "topic");
                }
                else if (Is(name, escaped, "token"u8, "token"))
                {
                    Once(ref seen, 32, "token");
                    token = ReadString(ref reader, "token");
                }
                else if (Is(name, escaped, "since"u8, "since"))
                {
                    Once(ref seen, 64, "since");
                    if (reader.TokenType != JsonTokenType.Number || !reader.TryGetInt64(out var value) || value < 0)
                    {
                        throw new FrameException("since must be a non-negative integer");
                    }

                    since = value;
                }
                else if (Is(name, escaped, "data"u8, "data"))
                {
                    Once(ref seen, 128, "data");
                    var start = (int)reader.TokenStartIndex;
                    reader.Skip();
                    data = utf8[start..(int)reader.BytesConsumed].ToArray();
                }
                else if (Is(name, escaped, "key"u8, "key"))
                {
                    Once(ref seen, 256, "key");
                    // Checked once the type is known: on other frames key is an unknown field, ignored as before.
                    key = reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
                    keyInvalid = !IdempotencyKeys.IsValid(key);
                    reader.Skip();
                }
                else
                {
                    reader.Skip(); // unknown fields are ignored (docs/protocol.md)
                }
            }

            if (reader.TokenType != JsonTokenType.EndObject || reader.Read())
            {
                throw new FrameException("a frame must be exactly one JSON object");
            }
        }
        catch (JsonException)
        {
            error = new FrameError(id, ErrorCodes.BadRequest, "malformed JSON");
            return false;
        }
        catch (FrameException ex)
        {
            error = new FrameError(id, ErrorCodes.BadRequest, ex.Message);
            return false;
        }

        if (kind is null)
        {
            error = new FrameError(id, ErrorCodes.BadRequest, typeSeen ? "unknown frame type" : "missing t");
            return false;
        }

        var missing = kind switch
        {
            ClientFrameType.Send when to is null => "to",
            ClientFrameType.Sub or ClientFrameType.Unsub or ClientFrameType.Pub when ch is null => "ch",
            ClientFrameType.Up when topic is null => "topic",
            ClientFrameType.Auth when token is null => "token",
            _ => null,
        };
        if (missing is not null)
        {
            error = new FrameError(id, ErrorCodes.BadRequest, $"missing {missing}");
            return false;
        }

        if (kind is ClientFrameType.Send or ClientFrameType.Pub or ClientFrameType.Up)
        {
            if (keyInvalid)
            {
                error = new FrameError(id, ErrorCodes.BadRequest, $"key must be a string of 1-{IdempotencyKeys.MaxLength} characters");
                return false;
            }

            data ??= NullJson;
        }
        else
        {
            key = null;
        }

        frame = new ClientFrame(kind.Value, id, to, ch, topic, since, token, data, key);
        error = default;
        return true;
    }

    public static byte[] Welcome(string client, long seq, bool recovered, int heartbeatSeconds) => Write(
        (client, seq, recovered, heartbeatSeconds),
        static (w, s) =>
        {
            w.WriteString("t"u8, "welcome"u8);
            w.WriteString("client"u8, s.client);
            w.WriteNumber("seq"u8, s.seq);
            w.WriteBoolean("recovered"u8, s.recovered);
            w.WriteNumber("hb"u8, s.heartbeatSeconds);
        });

    public static byte[] Message(long seq, string from, ReadOnlySpan<byte> data)
    {
        var writer = Rent(out var buffer);
        writer.WriteStartObject();
        writer.WriteString("t"u8, "msg"u8);
        writer.WriteNumber("seq"u8, seq);
        writer.WriteString("from"u8, from);
        writer.WritePropertyName("data"u8);
        writer.WriteRawValue(data, skipInputValidation: true); // validated when the sender's frame was parsed
        writer.WriteEndObject();
        writer.Flush();
        return buffer.WrittenSpan.ToArray();
    }

    public static byte[] Publication(string channel, long offset, string from, ReadOnlySpan<byte> data)
    {
        var writer = Rent(out var buffer);
        writer.WriteStartObject();
        writer.WriteString("t"u8, "pub"u8);
        writer.WriteString("ch"u8, channel);
        writer.WriteNumber("off"u8, offset);
        writer.WriteString("from"u8, from);
        writer.WritePropertyName("data"u8);
        writer.WriteRawValue(data, skipInputValidation: true); // validated when the publisher's frame was parsed
        writer.WriteEndObject();
        writer.Flush();
        return buffer.WrittenSpan.ToArray();
    }

    public static byte[] SubscribeOk(string? id, long offset, bool recovered) => Write(
        (id, offset, recovered),
        static (w, s) =>
        {
            w.WriteString("t"u8, "ok"u8);
            WriteId(w, s.id);
            w.WriteNumber("off"u8, s.offset);
            w.WriteBoolean("recovered"u8, s.recovered);
        });

    public static byte[] Ok(string? id) => Write(id, static (w, id) =>
    {
        w.WriteString("t"u8, "ok"u8);
        WriteId(w, id);
    });

    /// <summary>The <c>ok</c> of a keyed <c>send</c> (<c>seq</c>) or <c>pub</c> (<c>off</c>), with <c>dup</c> on a repeat.</summary>
    public static byte[] Accepted(string? id, bool channel, long position, bool duplicate) => Write(
        (id, channel, position, duplicate),
        static (w, s) =>
        {
            w.WriteString("t"u8, "ok"u8);
            WriteId(w, s.id);
            w.WriteNumber(s.channel ? "off"u8 : "seq"u8, s.position);
            if (s.duplicate)
            {
                w.WriteBoolean("dup"u8, true);
            }
        });

    /// <summary>The <c>ok</c> of a keyed <c>up</c>: <c>dup</c> when it repeated a key already produced.</summary>
    public static byte[] Ok(string? id, bool duplicate) => duplicate
        ? Write(id, static (w, id) =>
        {
            w.WriteString("t"u8, "ok"u8);
            WriteId(w, id);
            w.WriteBoolean("dup"u8, true);
        })
        : Ok(id);

    public static byte[] Error(string? id, string code, string message) => Write(
        (id, code, message),
        static (w, s) =>
        {
            w.WriteString("t"u8, "err"u8);
            WriteId(w, s.id);
            w.WriteString("code"u8, s.code);
            w.WriteString("msg"u8, s.message);
        });

    public static byte[] Error(in FrameError error) => Error(error.Id, error.Code, error.Message);

    public static byte[] Pong(string? id) => Write(id, static (w, id) =>
    {
        w.WriteString("t"u8, "pong"u8);
        WriteId(w, id);
    });

    public static byte[] Bye(string code, int? reconnectMs) => Write(
        (code, reconnectMs),
        static (w, s) =>
        {
            w.WriteString("t"u8, "bye"u8);
            w.WriteString("code"u8, s.code);
            if (s.reconnectMs is { } ms)
            {
                w.WriteNumber("reconnect_ms"u8, ms);
            }
        });

    private static void WriteId(Utf8JsonWriter writer, string? id)
    {
        if (id is not null)
        {
            writer.WriteString("id"u8, id);
        }
    }

    /// <summary>Static bodies with their state passed in: a capturing lambda would allocate a closure and a delegate per frame.</summary>
    private static byte[] Write<TState>(TState state, Action<Utf8JsonWriter, TState> body)
    {
        var writer = Rent(out var buffer);
        writer.WriteStartObject();
        body(writer, state);
        writer.WriteEndObject();
        writer.Flush();
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>A per-thread writer: frames are encoded synchronously, so one buffer per thread is reused, not one per frame.</summary>
    private static Utf8JsonWriter Rent(out ArrayBufferWriter<byte> buffer)
    {
        buffer = t_buffer ??= new ArrayBufferWriter<byte>(1024);
        buffer.ResetWrittenCount();
        var writer = t_writer ??= new Utf8JsonWriter(buffer, new JsonWriterOptions { SkipValidation = false });
        writer.Reset(buffer);
        return writer;
    }

    /// <summary>
    /// A field the gateway acts on may appear once: with two <c>to</c>s, the edge and another JSON reader downstream
    /// could disagree on the recipient (parsers differ on first-wins vs last-wins).
    /// </summary>
    private static void Once(ref int seen, int bit, string name)
    {
        if ((seen & bit) != 0)
        {
            throw new FrameException($"duplicate field {name}");
        }

        seen |= bit;
    }

    private static bool Is(ReadOnlySpan<byte> name, bool escaped, ReadOnlySpan<byte> expected, string expectedText) =>
        escaped ? System.Text.Encoding.UTF8.GetString(JsonUnescape(name)) == expectedText : name.SequenceEqual(expected);

    private static byte[] JsonUnescape(ReadOnlySpan<byte> name)
    {
        // Rare path (a client escaped a property name): let the reader unescape it.
        var quoted = new byte[name.Length + 2];
        quoted[0] = (byte)'"';
        name.CopyTo(quoted.AsSpan(1));
        quoted[^1] = (byte)'"';
        var reader = new Utf8JsonReader(quoted);
        reader.Read();
        return System.Text.Encoding.UTF8.GetBytes(reader.GetString()!);
    }

    /// <summary>
    /// The frame type, compared on the UTF-8 value (unescaping like <see cref="Utf8JsonReader.GetString"/> would) so no
    /// string is allocated per frame; null for a type this edge does not know.
    /// </summary>
    private static ClientFrameType? ReadType(ref Utf8JsonReader reader)
    {
        if (reader.TokenType != JsonTokenType.String)
        {
            throw new FrameException("t must be a string");
        }

        return reader.ValueTextEquals("send"u8) ? ClientFrameType.Send
            : reader.ValueTextEquals("sub"u8) ? ClientFrameType.Sub
            : reader.ValueTextEquals("unsub"u8) ? ClientFrameType.Unsub
            : reader.ValueTextEquals("pub"u8) ? ClientFrameType.Pub
            : reader.ValueTextEquals("up"u8) ? ClientFrameType.Up
            : reader.ValueTextEquals("ping"u8) ? ClientFrameType.Ping
            : reader.ValueTextEquals("auth"u8) ? ClientFrameType.Auth
            : null;
    }

    private static string ReadString(ref Utf8JsonReader reader, string field) =>
        reader.TokenType == JsonTokenType.String ? reader.GetString()! : throw new FrameException($"{field} must be a string");

    private sealed class FrameException(string message) : Exception(message);
}
