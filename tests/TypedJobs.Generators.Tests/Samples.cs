namespace TypedJobs.Generators.Tests;

/// <summary>User code shared by the snapshot, warning and caching tests.</summary>
internal static class Samples
{
    /// <summary>The shape of the design's example: an instance task, a recurring task with a service, a task with a result.</summary>
    public const string Email = """
        using System.Collections.Generic;
        using System.Threading;
        using System.Threading.Tasks;
        using TypedJobs;

        namespace Shop.Jobs
        {
            /// <summary>Sends mail.</summary>
            public interface ISmtpClient
            {
                /// <summary>Sends one message.</summary>
                /// <param name="to">The recipient.</param>
                /// <param name="body">The text.</param>
                /// <param name="ct">Cancels the send.</param>
                /// <returns>A task that completes when the message is sent.</returns>
                Task SendAsync(string to, string body, CancellationToken ct);
            }

            /// <summary>Builds reports.</summary>
            public interface IReportService
            {
                /// <summary>Builds the nightly report.</summary>
                /// <param name="ct">Cancels the work.</param>
                /// <returns>A task that completes when the report is built.</returns>
                Task BuildAsync(CancellationToken ct);
            }

            /// <summary>A customer.</summary>
            /// <param name="Name">The name.</param>
            /// <param name="Email">The address.</param>
            /// <param name="Tags">Free-form tags.</param>
            public sealed record Customer(string Name, string? Email, IReadOnlyList<string> Tags);

            /// <summary>Mail tasks.</summary>
            /// <param name="smtp">The mail client.</param>
            public sealed class EmailTasks(ISmtpClient smtp)
            {
                /// <summary>Sends the welcome mail to a new <see cref="Customer"/>.</summary>
                /// <param name="to">The recipient's address.</param>
                /// <param name="customer">The customer to greet.</param>
                /// <param name="ct">Cancels the send.</param>
                /// <returns>A task that completes when the mail is sent.</returns>
                [Task(Queue = "emails", MaxRetries = 5, Timeout = "00:02:00", Priority = Priority.High)]
                public async Task SendWelcome(string to, Customer customer, CancellationToken ct) =>
                    await smtp.SendAsync(to, "Welcome " + customer.Name, ct).ConfigureAwait(false);
            }

            /// <summary>Report tasks.</summary>
            public static class Reports
            {
                /// <summary>Builds the nightly report.</summary>
                /// <param name="reports">The report service.</param>
                /// <param name="ct">Cancels the work.</param>
                /// <returns>A task that completes when the report is built.</returns>
                [Task(Cron = "0 2 * * *", TimeZone = "Europe/Berlin", Unique = "01:00:00")]
                public static Task Nightly([FromServices] IReportService reports, CancellationToken ct) => reports.BuildAsync(ct);

                /// <summary>Counts the customers of a region.</summary>
                /// <param name="region">The region code.</param>
                /// <param name="limit">The most to count.</param>
                /// <returns>The count.</returns>
                [Task(Name = "reports.count")]
                public static Task<int> Count(string region, int limit = 100) => Task.FromResult(region.Length + limit);
            }
        }
        """;

    /// <summary>Payload types of every supported kind.</summary>
    public const string Types = """
        using System;
        using System.Collections.Generic;
        using TypedJobs;

        namespace Shop.Kinds
        {
            /// <summary>A color.</summary>
            public enum Color
            {
                /// <summary>Red.</summary>
                Red,

                /// <summary>Blue.</summary>
                Blue,
            }

            /// <summary>A point.</summary>
            public struct Point
            {
                /// <summary>X.</summary>
                public int X { get; set; }

                /// <summary>Y.</summary>
                public int Y { get; set; }
            }

            /// <summary>An order line.</summary>
            /// <param name="Sku">The article.</param>
            /// <param name="Quantity">How many.</param>
            public sealed record Line(string Sku, int Quantity)
            {
                /// <summary>A comment.</summary>
                public string? Comment { get; set; }

                /// <summary>Where.</summary>
                public Point? At { get; init; }
            }

            /// <summary>Kind tasks.</summary>
            public static class KindTasks
            {
                /// <summary>Takes everything.</summary>
                /// <param name="id">An id.</param>
                /// <param name="when">A time.</param>
                /// <param name="day">A day.</param>
                /// <param name="span">A duration.</param>
                /// <param name="uri">An address.</param>
                /// <param name="data">Bytes.</param>
                /// <param name="color">A color.</param>
                /// <param name="maybe">An optional number.</param>
                /// <param name="lines">Lines.</param>
                /// <param name="byName">Lines by name.</param>
                /// <param name="class">A keyword.</param>
                /// <returns>The lines.</returns>
                [Task]
                public static Line[] Everything(Guid id, DateTimeOffset when, DateOnly day, TimeSpan span, Uri uri, byte[] data, Color color,
                    int? maybe, List<Line> lines, Dictionary<string, Line?> byName, string @class = "none") => lines.ToArray();
            }
        }
        """;

    /// <summary>Payload members marked [Sensitive]: a parameter, a record parameter, a property of a recursive type, in dictionaries and arrays.</summary>
    public const string Sensitive = """
        using System.Collections.Generic;
        using TypedJobs;

        namespace Shop.Secrets
        {
            /// <summary>A payment card.</summary>
            /// <param name="Holder">The holder.</param>
            /// <param name="Number">The card number.</param>
            public sealed record Card(string Holder, [Sensitive] string Number);

            /// <summary>A tree of keys.</summary>
            public sealed class KeyNode
            {
                /// <summary>The name.</summary>
                public string Name { get; set; } = "";

                /// <summary>The secret key.</summary>
                [Sensitive]
                public string? Key { get; set; }

                /// <summary>The children.</summary>
                public List<KeyNode> Children { get; set; } = new();
            }

            /// <summary>Tasks with sensitive payload members.</summary>
            public static class AccountTasks
            {
                /// <summary>Signs in.</summary>
                /// <param name="user">The user.</param>
                /// <param name="password">The password.</param>
                /// <param name="card">The card.</param>
                /// <param name="cards">Cards by name.</param>
                /// <param name="tree">Keys.</param>
                /// <param name="extra">More cards.</param>
                [Task]
                public static void Login(string user, [Sensitive] string password, Card card, Dictionary<string, Card> cards, KeyNode tree, Card[]? extra = null)
                {
                }

                /// <summary>Takes no secret.</summary>
                /// <param name="note">A note.</param>
                [Task]
                public static void Note(string note)
                {
                }
            }
        }
        """;

    /// <summary>A library whose registry the host references.</summary>
    public const string Library = """
        using TypedJobs;

        namespace Lib
        {
            /// <summary>Library tasks.</summary>
            public static class LibTasks
            {
                /// <summary>Does library work.</summary>
                /// <param name="x">A number.</param>
                [Task]
                public static void Work(int x)
                {
                }
            }
        }
        """;

    /// <summary>
    /// Nested payload types, disposable and context-taking instance tasks, keyed services, overloads and payload
    /// evolution (constructor defaults, init initializers, required members).
    /// </summary>
    public const string Corners = """
        using System;
        using System.Collections.Generic;
        using System.Threading;
        using System.Threading.Tasks;
        using Microsoft.Extensions.DependencyInjection;
        using TypedJobs;

        namespace Shop.Corners
        {
            /// <summary>A store.</summary>
            public interface IStore
            {
                /// <summary>Saves an order.</summary>
                /// <param name="order">The order.</param>
                /// <param name="ct">Cancels the save.</param>
                /// <returns>A task that completes when the order is saved.</returns>
                Task SaveAsync(Order order, CancellationToken ct);
            }

            /// <summary>An order line; Qty and Unit were added later, with defaults.</summary>
            /// <param name="Sku">The article.</param>
            /// <param name="Qty">How many.</param>
            /// <param name="Unit">The unit.</param>
            public sealed record Line(string Sku, int Qty = 1, string Unit = "pcs")
            {
                /// <summary>A note, kept when an old payload has none.</summary>
                public string Note { get; init; } = "none";
            }

            /// <summary>An address.</summary>
            public sealed class Address
            {
                /// <summary>The street.</summary>
                public required string Street { get; init; }

                /// <summary>The country, kept when an old payload has none.</summary>
                public string Country { get; init; } = "DE";

                /// <summary>Free text.</summary>
                public string? Remark;
            }

            /// <summary>An order with nested types.</summary>
            /// <param name="Id">The id.</param>
            /// <param name="Lines">The lines.</param>
            /// <param name="ShipTo">Where to.</param>
            public sealed record Order(Guid Id, IReadOnlyList<Line> Lines, Address ShipTo)
            {
                /// <summary>Gifts by recipient.</summary>
                public Dictionary<string, List<Line>> Gifts { get; init; } = new();
            }

            /// <summary>Disposable instance tasks with keyed services.</summary>
            /// <param name="store">The primary store.</param>
            public sealed class Orders([FromKeyedServices("primary")] IStore store) : IDisposable
            {
                /// <summary>Saves an order.</summary>
                /// <param name="order">The order.</param>
                /// <param name="ct">Cancels the save.</param>
                /// <returns>A task that completes when the order is saved.</returns>
                [Task]
                public Task Save(Order order, CancellationToken ct) => store.SaveAsync(order, ct);

                /// <summary>Counts the lines of <paramref name="order"/> (synchronous, so its handler is not async).</summary>
                /// <param name="order">The order.</param>
                /// <param name="archive">The archive store.</param>
                /// <returns>The count.</returns>
                [Task]
                public int Count(Order order, [FromKeyedServices("archive")] IStore archive) => order.Lines.Count + (archive is null ? 0 : 1);

                /// <summary>Disposes nothing.</summary>
                public void Dispose()
                {
                }
            }

            /// <summary>An instance task that takes the job context and is disposed asynchronously.</summary>
            public sealed class Auditor : IAsyncDisposable
            {
                /// <summary>Audits an order.</summary>
                /// <param name="id">The order id.</param>
                /// <param name="context">The job's context.</param>
                [Task]
                public void Audit(Guid id, JobContext context) => _ = context.Attempt + id.GetHashCode();

                /// <summary>Disposes nothing.</summary>
                /// <returns>A completed task.</returns>
                public ValueTask DisposeAsync() => default;
            }

            /// <summary>Overloads.</summary>
            public static class Mail
            {
                /// <summary>Sends mail.</summary>
                /// <param name="to">The recipient.</param>
                [Task(Name = "mail.send")]
                public static void Send(string to) => _ = to;

                /// <summary>Sends mail, cancellably.</summary>
                /// <param name="to">The recipient.</param>
                /// <param name="ct">Cancels the send.</param>
                /// <returns>A task.</returns>
                [Task(Name = "mail.send-async")]
                public static Task SendAsync(string to, CancellationToken ct) => Task.Delay(to.Length, ct);

                /// <summary>Sends several mails.</summary>
                /// <param name="to">The recipients.</param>
                /// <param name="copies">How many copies.</param>
                [Task(Name = "mail.send-many")]
                public static void Send(string[] to, int copies = 1) => _ = to.Length * copies;

                /// <summary>Sends to everyone.</summary>
                /// <param name="subject">The subject.</param>
                /// <param name="to">The recipients.</param>
                [Task(Name = "mail.broadcast")]
                public static void Broadcast(string subject, params string[] to) => _ = subject + to.Length;
            }
        }
        """;
}
