using System.Buffers;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace TypedJobs.Registration;

/// <summary>
/// Turns a payload or result of type <typeparamref name="T"/> into bytes and back. The source generator
/// emits reflection-free implementations; <see cref="JobSerializer.FromJsonTypeInfo{T}(JsonTypeInfo{T})"/>
/// adapts a System.Text.Json source-generated context for hand-written registrations.
/// </summary>
/// <typeparam name="T">The serialized type.</typeparam>
public abstract class JobSerializer<T>
{
    /// <summary>Writes <paramref name="value"/> to <paramref name="destination"/>.</summary>
    public abstract void Serialize(T value, IBufferWriter<byte> destination);

    /// <summary>Reads a value from <paramref name="data"/>. Throws when the data does not fit the type.</summary>
    public abstract T Deserialize(ReadOnlySpan<byte> data);

    /// <summary>
    /// Whether serialized values have members marked <see cref="SensitiveAttribute"/> that <see cref="Redact"/>
    /// replaces. Generated serializers override it for payloads with sensitive members.
    /// </summary>
    public virtual bool HasSensitiveMembers => false;

    /// <summary>
    /// Writes the serialized value <paramref name="data"/> to <paramref name="writer"/> with every sensitive member's
    /// value replaced by the string <c>"***"</c>, for display to operators. The default copies the JSON unchanged.
    /// </summary>
    /// <exception cref="JsonException"><paramref name="data"/> is not valid JSON.</exception>
    public virtual void Redact(ReadOnlySpan<byte> data, Utf8JsonWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        JobSerializer.CopyJsonValue(data, writer);
    }
}

/// <summary>Factory methods for <see cref="JobSerializer{T}"/>.</summary>
public static class JobSerializer
{
    /// <summary>A serializer over a System.Text.Json source-generated <see cref="JsonTypeInfo{T}"/> (AOT-safe).</summary>
    public static JobSerializer<T> FromJsonTypeInfo<T>(JsonTypeInfo<T> typeInfo)
    {
        ArgumentNullException.ThrowIfNull(typeInfo);
        return new JsonTypeInfoSerializer<T>(typeInfo);
    }

    /// <summary>
    /// Copies the next JSON value of <paramref name="reader"/> (positioned on its first token) to <paramref name="writer"/>
    /// and leaves the reader on its last token. Used by generated redaction code for values without sensitive members.
    /// </summary>
    public static void CopyJsonValue(ref Utf8JsonReader reader, Utf8JsonWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        using var document = JsonDocument.ParseValue(ref reader);
        document.RootElement.WriteTo(writer);
    }

    internal static void CopyJsonValue(ReadOnlySpan<byte> data, Utf8JsonWriter writer)
    {
        var reader = new Utf8JsonReader(data);
        if (!reader.Read())
        {
            throw new JsonException("The payload is empty.");
        }

        CopyJsonValue(ref reader, writer);
    }

    /// <summary>A serializer for tasks without a payload: writes <c>{}</c> and ignores what it reads.</summary>
    public static JobSerializer<NoPayload> Empty { get; } = new EmptySerializer();

    /// <summary>Serializes <paramref name="value"/> into a new array.</summary>
    public static byte[] ToBytes<T>(this JobSerializer<T> serializer, T value)
    {
        ArgumentNullException.ThrowIfNull(serializer);
        var buffer = new ArrayBufferWriter<byte>(256);
        serializer.Serialize(value, buffer);
        return buffer.WrittenSpan.ToArray();
    }

    private sealed class JsonTypeInfoSerializer<T>(JsonTypeInfo<T> typeInfo) : JobSerializer<T>
    {
        public override void Serialize(T value, IBufferWriter<byte> destination)
        {
            using var writer = new Utf8JsonWriter(destination);
            JsonSerializer.Serialize(writer, value, typeInfo);
        }

        public override T Deserialize(ReadOnlySpan<byte> data) =>
            JsonSerializer.Deserialize(data, typeInfo)!;
    }

    private sealed class EmptySerializer : JobSerializer<NoPayload>
    {
        public override void Serialize(NoPayload value, IBufferWriter<byte> destination)
        {
            var span = destination.GetSpan(2);
            span[0] = (byte)'{';
            span[1] = (byte)'}';
            destination.Advance(2);
        }

        public override NoPayload Deserialize(ReadOnlySpan<byte> data)
        {
            var reader = new Utf8JsonReader(data);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                throw new JsonException("Expected a JSON object.");
            }

            reader.Skip();
            return default;
        }
    }
}

/// <summary>The payload of a task that takes no arguments.</summary>
public readonly record struct NoPayload;
