using System.Text.Json;

namespace OrleansGateway.Bench.LoadGen;

internal enum FrameType
{
    Other,
    Welcome,
    Msg,
    Pub,
    Ok,
    Err,
    Pong,
    Bye,
    Join,
}

/// <summary>The fields of a server frame the load generator looks at; <see cref="Ts"/> is <c>data.ts</c> (send timestamp).</summary>
internal struct ServerFrame
{
    public FrameType Type;
    public long Seq;
    public long Off;
    public long Ts;
    public long ReconnectMs;
    public bool Recovered;
    public bool HasOff;
    public string? Code;
    public string? Message;
    public string? Client;

    public static ServerFrame Parse(ReadOnlySpan<byte> utf8)
    {
        var frame = default(ServerFrame);
        var reader = new Utf8JsonReader(utf8);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            return frame;
        }

        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("t"u8))
            {
                reader.Read();
                frame.Type = reader.ValueSpan switch
                {
                    var v when v.SequenceEqual("msg"u8) => FrameType.Msg,
                    var v when v.SequenceEqual("pub"u8) => FrameType.Pub,
                    var v when v.SequenceEqual("ok"u8) => FrameType.Ok,
                    var v when v.SequenceEqual("welcome"u8) => FrameType.Welcome,
                    var v when v.SequenceEqual("err"u8) => FrameType.Err,
                    var v when v.SequenceEqual("pong"u8) => FrameType.Pong,
                    var v when v.SequenceEqual("bye"u8) => FrameType.Bye,
                    var v when v.SequenceEqual("join"u8) => FrameType.Join,
                    _ => FrameType.Other,
                };
            }
            else if (reader.ValueTextEquals("seq"u8))
            {
                reader.Read();
                frame.Seq = reader.GetInt64();
            }
            else if (reader.ValueTextEquals("off"u8))
            {
                reader.Read();
                frame.Off = reader.GetInt64();
                frame.HasOff = true;
            }
            else if (reader.ValueTextEquals("recovered"u8))
            {
                reader.Read();
                frame.Recovered = reader.TokenType == JsonTokenType.True;
            }
            else if (reader.ValueTextEquals("reconnect_ms"u8))
            {
                reader.Read();
                frame.ReconnectMs = reader.GetInt64();
            }
            else if (reader.ValueTextEquals("code"u8))
            {
                reader.Read();
                frame.Code = reader.GetString();
            }
            else if (reader.ValueTextEquals("client"u8))
            {
                reader.Read();
                frame.Client = reader.GetString();
            }
            else if (reader.ValueTextEquals("msg"u8))
            {
                reader.Read();
                frame.Message = reader.GetString();
            }
            else if (reader.ValueTextEquals("data"u8))
            {
                reader.Read();
                if (reader.TokenType == JsonTokenType.StartObject)
                {
                    var depth = reader.CurrentDepth;
                    while (reader.Read() && !(reader.TokenType == JsonTokenType.EndObject && reader.CurrentDepth == depth))
                    {
                        if (reader.TokenType == JsonTokenType.PropertyName && reader.ValueTextEquals("ts"u8))
                        {
                            reader.Read();
                            frame.Ts = reader.GetInt64();
                        }
                        else if (reader.TokenType == JsonTokenType.PropertyName)
                        {
                            reader.Read();
                            reader.Skip();
                        }
                    }
                }
                else
                {
                    reader.Skip();
                }
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }

        return frame;
    }
}
