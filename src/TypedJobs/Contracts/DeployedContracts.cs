using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using TypedJobs.Registration;

namespace TypedJobs.Contracts;

/// <summary>
/// The task contracts deployed in a process: every contract compiled into it (the generated contract of each
/// <c>[Task]</c> method and each implemented contract task, and each producer-only <c>[TaskContract]</c> task of a
/// referenced assembly) and every task registered by hand. A process that only enqueues knows the tasks it can enqueue;
/// a worker also knows, and <see cref="Runs"/>, the tasks it has handlers for. <c>AddTypedJobs(...)</c> registers the
/// process's own set as a singleton.
/// </summary>
public sealed class DeployedContracts
{
    private readonly Dictionary<string, TaskContractInfo> byName;
    private readonly HashSet<string> handled;

    /// <summary>Collects contracts, one per task name, and the tasks registered with or without a generated contract.</summary>
    /// <param name="contracts">The contracts (generated code registers one per task of each assembly; one name may come from a contract assembly and from its implementation).</param>
    /// <param name="tasks">The tasks registered in the process (<see cref="TaskRegistry.Tasks"/>); those with a handler are the tasks it <see cref="Runs"/>.</param>
    public DeployedContracts(IEnumerable<TaskContractInfo> contracts, IEnumerable<JobTask>? tasks = null)
        : this(contracts, tasks, null)
    {
    }

    private DeployedContracts(IEnumerable<TaskContractInfo> contracts, IEnumerable<string> handledNames)
        : this(contracts, null, handledNames)
    {
    }

    private DeployedContracts(IEnumerable<TaskContractInfo> contracts, IEnumerable<JobTask>? tasks, IEnumerable<string>? handledNames)
    {
        ArgumentNullException.ThrowIfNull(contracts);
        byName = new Dictionary<string, TaskContractInfo>(StringComparer.Ordinal);
        var conflicts = new List<ContractConflict>();
        foreach (var contract in contracts)
        {
            ArgumentNullException.ThrowIfNull(contract);
            if (!byName.TryGetValue(contract.Name, out var existing))
            {
                byName.Add(contract.Name, contract);
                continue;
            }

            if (existing.Hash is not null && contract.Hash is not null && !string.Equals(existing.Hash, contract.Hash, StringComparison.Ordinal)
                && !conflicts.Any(c => string.Equals(c.TaskName, contract.Name, StringComparison.Ordinal)))
            {
                conflicts.Add(new ContractConflict(contract.Name, existing, contract));
            }

            if (existing.Shape is null && contract.Shape is not null)
            {
                byName[contract.Name] = contract;
            }
        }

        handled = new HashSet<string>(handledNames ?? [], StringComparer.Ordinal);
        foreach (var task in tasks ?? [])
        {
            if (task.HasHandler)
            {
                handled.Add(task.Name);
            }

            if (!byName.ContainsKey(task.Name))
            {
                byName.Add(task.Name, new TaskContractInfo { Name = task.Name, Queue = task.Settings.Queue });
            }
        }

        Tasks = byName.Values.OrderBy(static c => c.Name, StringComparer.Ordinal).ToArray();
        Conflicts = conflicts;
        Hash = Combine(Tasks);
    }

    /// <summary>One contract per task name, by name (ordinal).</summary>
    public IReadOnlyList<TaskContractInfo> Tasks { get; }

    /// <summary>
    /// Task names registered twice with different shapes — for example a worker compiled against one version of a contract
    /// assembly and run with another. Jobs of such a task may not read back; rebuild the worker against the contract it runs with.
    /// </summary>
    public IReadOnlyList<ContractConflict> Conflicts { get; }

    /// <summary>
    /// A hash over every task's name and shape hash (16 hexadecimal digits): equal in two processes built with the same
    /// contracts. Workers report it in the worker registry (<c>WorkerRegistration.ContractHash</c>).
    /// </summary>
    public string Hash { get; }

    /// <summary>Whether a task of this name is deployed (can be enqueued or run here).</summary>
    public bool Knows(string taskName)
    {
        ArgumentNullException.ThrowIfNull(taskName);
        return byName.ContainsKey(taskName);
    }

    /// <summary>Whether this process has a handler for the task (its workers run its jobs).</summary>
    public bool Runs(string taskName)
    {
        ArgumentNullException.ThrowIfNull(taskName);
        return handled.Contains(taskName);
    }

    /// <summary>The contract of a task, by name.</summary>
    public bool TryGet(string taskName, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out TaskContractInfo? contract)
    {
        ArgumentNullException.ThrowIfNull(taskName);
        return byName.TryGetValue(taskName, out contract);
    }

    /// <summary>
    /// The tasks (names and queues) of a contract baseline file (<c>TypedJobs.contract.json</c>, written by the
    /// <c>UpdateTaskContract</c> build target), for tools that check a store against a deployment they are not built with.
    /// </summary>
    /// <exception cref="FormatException">The text is not a contract baseline.</exception>
    public static DeployedContracts FromBaseline(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        var contracts = new List<TaskContractInfo>();
        try
        {
            using var document = JsonDocument.Parse(json);
            if (document.RootElement.ValueKind != JsonValueKind.Object
                || !document.RootElement.TryGetProperty("tasks", out var tasks) || tasks.ValueKind != JsonValueKind.Object)
            {
                throw new FormatException("A contract baseline is a JSON object with a \"tasks\" object.");
            }

            foreach (var task in tasks.EnumerateObject())
            {
                string? queue = null;
                if (task.Value.ValueKind == JsonValueKind.Object && task.Value.TryGetProperty("queue", out var q) && q.ValueKind == JsonValueKind.String)
                {
                    queue = q.GetString();
                }

                contracts.Add(new TaskContractInfo { Name = task.Name, Queue = queue });
            }
        }
        catch (JsonException ex)
        {
            throw new FormatException("The contract baseline is not valid JSON: " + ex.Message, ex);
        }

        return new DeployedContracts(contracts);
    }

    /// <summary>
    /// The tasks of a contract baseline file (<c>TypedJobs.contract.json</c>), as <see cref="FromBaseline"/> reads them.
    /// </summary>
    /// <param name="path">The baseline file.</param>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="FormatException">The file is not a contract baseline; the message names it.</exception>
    public static DeployedContracts FromBaselineFile(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var json = File.ReadAllText(path);
        try
        {
            return FromBaseline(json);
        }
        catch (FormatException ex)
        {
            throw new FormatException($"'{path}': {ex.Message}", ex);
        }
    }

    /// <summary>
    /// The tasks a built assembly declares, implements or runs, read from the metadata the source generator writes into
    /// it (<c>[assembly: AssemblyMetadata("TypedJobs.…", …)]</c>) without loading it: every <c>[Task]</c> method, every task
    /// of a <c>[TaskContract]</c> interface, and every contract task it implements, each with the queue its contract
    /// baseline records. For tools (the <c>doctor</c> command of the CLI) that check a store against a deployment they are
    /// not built with. The result knows which tasks the assembly has handlers for (<see cref="Runs"/>).
    /// </summary>
    /// <param name="path">The assembly file (a <c>.dll</c> built with the TypedJobs package).</param>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="BadImageFormatException">The file is not a .NET assembly.</exception>
    public static DeployedContracts FromAssembly(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        using var stream = File.OpenRead(path);
        using var pe = new System.Reflection.PortableExecutable.PEReader(stream);
        if (!pe.HasMetadata)
        {
            throw new BadImageFormatException($"'{path}' is not a .NET assembly.", path);
        }

        var metadata = System.Reflection.Metadata.PEReaderExtensions.GetMetadataReader(pe);
        if (!metadata.IsAssembly)
        {
            throw new BadImageFormatException($"'{path}' is not a .NET assembly.", path);
        }

        var assemblyName = metadata.GetString(metadata.GetAssemblyDefinition().Name);
        var runs = new List<string>();
        var declared = new List<string>();
        var queues = new Dictionary<string, string?>(StringComparer.Ordinal);
        foreach (var (key, value) in AssemblyMetadata(metadata))
        {
            switch (key)
            {
                case TaskMetadataKey:
                case ImplementsMetadataKey:
                    runs.Add(value);
                    break;
                case ContractTaskMetadataKey:
                    declared.Add(value[(value.IndexOf('|', StringComparison.Ordinal) + 1)..]);
                    break;
                case ContractMetadataKey:
                    foreach (var task in FromBaseline(value).Tasks)
                    {
                        queues[task.Name] = task.Queue;
                    }

                    break;
            }
        }

        var contracts = runs.Concat(declared).Concat(queues.Keys).Distinct(StringComparer.Ordinal)
            .Select(name => new TaskContractInfo { Name = name, Queue = queues.GetValueOrDefault(name), Assembly = assemblyName });
        return new DeployedContracts(contracts, handledNames: runs);
    }

    /// <summary>
    /// The contracts of several deployments together (for example every worker's and API's assembly or baseline): a task is
    /// known when one of them knows it and run when one of them runs it; <see cref="Conflicts"/> lists the names two of them
    /// know with different shape hashes.
    /// </summary>
    public static DeployedContracts Combine(IEnumerable<DeployedContracts> deployments)
    {
        ArgumentNullException.ThrowIfNull(deployments);
        var list = deployments.ToList();
        foreach (var deployment in list)
        {
            ArgumentNullException.ThrowIfNull(deployment, nameof(deployments));
        }

        return new DeployedContracts(list.SelectMany(static d => d.byName.Values), handledNames: list.SelectMany(static d => d.handled));
    }

    private const string TaskMetadataKey = "TypedJobs.Task";
    private const string ImplementsMetadataKey = "TypedJobs.Implements";
    private const string ContractTaskMetadataKey = "TypedJobs.ContractTask";
    private const string ContractMetadataKey = "TypedJobs.Contract";

    /// <summary>The <c>AssemblyMetadata</c> key-value pairs of an assembly.</summary>
    private static IEnumerable<(string Key, string Value)> AssemblyMetadata(System.Reflection.Metadata.MetadataReader metadata)
    {
        var pairs = new List<(string, string)>();
        foreach (var handle in metadata.GetAssemblyDefinition().GetCustomAttributes())
        {
            var attribute = metadata.GetCustomAttribute(handle);
            System.Reflection.Metadata.StringHandle typeName;
            switch (attribute.Constructor.Kind)
            {
                case System.Reflection.Metadata.HandleKind.MemberReference:
                    var reference = metadata.GetMemberReference((System.Reflection.Metadata.MemberReferenceHandle)attribute.Constructor);
                    if (reference.Parent.Kind != System.Reflection.Metadata.HandleKind.TypeReference)
                    {
                        continue;
                    }

                    typeName = metadata.GetTypeReference((System.Reflection.Metadata.TypeReferenceHandle)reference.Parent).Name;
                    break;
                case System.Reflection.Metadata.HandleKind.MethodDefinition:
                    var definition = metadata.GetMethodDefinition((System.Reflection.Metadata.MethodDefinitionHandle)attribute.Constructor);
                    typeName = metadata.GetTypeDefinition(definition.GetDeclaringType()).Name;
                    break;
                default:
                    continue;
            }

            if (!metadata.StringComparer.Equals(typeName, "AssemblyMetadataAttribute"))
            {
                continue;
            }

            var blob = metadata.GetBlobReader(attribute.Value);
            if (blob.Length < 2 || blob.ReadUInt16() != 1)
            {
                continue;
            }

            if (blob.ReadSerializedString() is { } key && blob.ReadSerializedString() is { } value)
            {
                pairs.Add((key, value));
            }
        }

        return pairs;
    }

    private static string Combine(IReadOnlyList<TaskContractInfo> tasks)
    {
        var text = new StringBuilder();
        foreach (var task in tasks)
        {
            text.Append(task.Name).Append('\t').Append(task.Hash ?? "-").Append('\n');
        }

        return LowerHex(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())).AsSpan(0, 8));
    }

    /// <summary>Lowercase hexadecimal digits, as the generator writes shape hashes.</summary>
    internal static string LowerHex(ReadOnlySpan<byte> bytes)
    {
        const string Digits = "0123456789abcdef";
        var chars = new char[bytes.Length * 2];
        for (var i = 0; i < bytes.Length; i++)
        {
            chars[2 * i] = Digits[bytes[i] >> 4];
            chars[(2 * i) + 1] = Digits[bytes[i] & 0xF];
        }

        return new string(chars);
    }
}

/// <summary>A task name registered twice with different shapes.</summary>
/// <param name="TaskName">The task.</param>
/// <param name="First">The contract registered first.</param>
/// <param name="Second">The other one.</param>
public sealed record ContractConflict(string TaskName, TaskContractInfo First, TaskContractInfo Second);
