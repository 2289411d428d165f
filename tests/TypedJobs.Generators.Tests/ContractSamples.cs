namespace TypedJobs.Generators.Tests;

/// <summary>Sources of task contracts: a shared contract library, a worker library that implements it, and hosts.</summary>
internal static class ContractSamples
{
    /// <summary>A contract library: tasks without handlers, with a nested payload type, an enum, defaults and a result.</summary>
    public const string Shared = """
        using System.Collections.Generic;
        using System.Threading;
        using System.Threading.Tasks;
        using TypedJobs;

        namespace Shop.Contracts
        {
            /// <summary>A customer's tier.</summary>
            public enum Tier
            {
                /// <summary>Everyone.</summary>
                Basic = 0,

                /// <summary>Paying customers.</summary>
                Gold = 1,
            }

            /// <summary>A customer.</summary>
            /// <param name="Name">The name.</param>
            /// <param name="Tier">The tier.</param>
            public sealed record Customer(string Name, Tier Tier = Tier.Basic);

            /// <summary>Welcome mails.</summary>
            [TaskContract]
            public interface IWelcomeTasks
            {
                /// <summary>Sends the welcome mail.</summary>
                /// <param name="email">The address.</param>
                /// <param name="customer">The customer.</param>
                /// <param name="cancellationToken">Stops the mail.</param>
                /// <returns>A task that completes when the mail is sent.</returns>
                [Task(Name = "welcome.send", Queue = "emails", MaxRetries = 5, Priority = Priority.High)]
                Task SendWelcome(string email, Customer customer, CancellationToken cancellationToken);

                /// <summary>Scores a customer.</summary>
                /// <param name="customer">The customer.</param>
                /// <param name="bonus">Added to the score.</param>
                /// <returns>The score.</returns>
                [Task]
                Task<int> Score(Customer customer, int bonus = 10);

                /// <summary>Tags customers.</summary>
                /// <param name="tags">The tags.</param>
                [Task(Name = "welcome.tag")]
                void Tag(List<string> tags);
            }
        }
        """;

    /// <summary>A worker library: one implicit, one explicit implementation, constructor services and run-time settings.</summary>
    public const string Worker = """
        using System.Collections.Generic;
        using System.Threading;
        using System.Threading.Tasks;
        using TypedJobs;
        using Shop.Contracts;

        namespace Shop.Worker
        {
            /// <summary>Where the worker writes what it did.</summary>
            public sealed class Journal
            {
                /// <summary>The lines.</summary>
                public List<string> Lines { get; } = [];
            }

            /// <summary>Implements the welcome contract.</summary>
            /// <param name="journal">The journal.</param>
            public sealed class WelcomeTasks(Journal journal) : IWelcomeTasks
            {
                /// <inheritdoc />
                [Task(Timeout = "00:00:30", MaxConcurrency = 2)]
                public Task SendWelcome(string email, Customer customer, CancellationToken cancellationToken)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    lock (journal)
                    {
                        journal.Lines.Add("sent " + email + " to " + customer.Name + " (" + customer.Tier + ")");
                    }

                    return Task.CompletedTask;
                }

                /// <inheritdoc />
                public Task<int> Score(Customer customer, int bonus = 10) => Task.FromResult(customer.Name.Length + bonus + (int)customer.Tier * 100);

                /// <inheritdoc />
                void IWelcomeTasks.Tag(List<string> tags)
                {
                    lock (journal)
                    {
                        journal.Lines.Add("tagged " + string.Join(",", tags));
                    }
                }
            }
        }
        """;
}
