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
