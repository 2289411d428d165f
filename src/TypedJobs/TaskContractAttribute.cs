namespace TypedJobs;

/// <summary>
/// Marks an interface as a task contract: each of its methods marked <c>[Task]</c> declares a task — its name, queue,
/// priority, retries, uniqueness, schedule and payload — without a handler. The project that declares the contract gets
/// the typed enqueue stubs, the payload serializers and the task identities, and needs no handler code or worker
/// dependency. A class that implements the interface (usually in a worker project) is the handler: the source generator
/// registers it, and each task keeps the identity its contract declares. A <c>[Task]</c> attribute on an implementing
/// method may add only run-time settings (<see cref="TaskAttribute.Timeout"/>, <see cref="TaskAttribute.MaxConcurrency"/>).
/// </summary>
/// <example>
/// <code>
/// [TaskContract]
/// public interface IWelcomeTasks
/// {
///     [Task(Name = "welcome.send", Queue = "emails", MaxRetries = 5)]
///     Task SendWelcome(string email, CancellationToken cancellationToken);
/// }
///
/// // A web API that references only the contract's project:
/// await jobs.EnqueueSendWelcomeAsync("ada@example.com");
///
/// // A worker project:
/// public sealed class WelcomeTasks(IMailer mailer) : IWelcomeTasks
/// {
///     [Task(Timeout = "00:01:00")]
///     public Task SendWelcome(string email, CancellationToken cancellationToken) => mailer.SendAsync(email, cancellationToken);
/// }
/// </code>
/// </example>
[AttributeUsage(AttributeTargets.Interface, AllowMultiple = false, Inherited = false)]
public sealed class TaskContractAttribute : Attribute
{
}
