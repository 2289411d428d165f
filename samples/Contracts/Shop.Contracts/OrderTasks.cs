using TypedJobs;

namespace Shop.Contracts;

/// <summary>A line of an order.</summary>
/// <param name="Sku">The article.</param>
/// <param name="Quantity">How many.</param>
/// <param name="UnitPrice">The price of one.</param>
public sealed record OrderLine(string Sku, int Quantity, decimal UnitPrice);

/// <summary>An order.</summary>
/// <param name="Id">The order number.</param>
/// <param name="Customer">Who ordered.</param>
/// <param name="Lines">What was ordered.</param>
public sealed record Order(string Id, string Customer, IReadOnlyList<OrderLine> Lines);

/// <summary>
/// The order tasks: their names, queues, retries and payloads. The API enqueues them through the generated
/// <c>EnqueueConfirmOrderAsync</c> and <c>EnqueuePriceOrderAsync</c>; the worker implements this interface and runs them.
/// </summary>
[TaskContract]
public interface IOrderTasks
{
    /// <summary>Confirms an order to the customer.</summary>
    /// <param name="order">The order.</param>
    /// <param name="cancellationToken">Stops the confirmation.</param>
    /// <returns>A task that completes when the confirmation is sent.</returns>
    [Task(Name = "orders.confirm", Queue = "orders", MaxRetries = 5)]
    Task ConfirmOrder(Order order, CancellationToken cancellationToken);

    /// <summary>Prices an order.</summary>
    /// <param name="order">The order.</param>
    /// <param name="discountPercent">A discount on the total.</param>
    /// <returns>The total.</returns>
    [Task(Name = "orders.price", Queue = "orders")]
    Task<decimal> PriceOrder(Order order, int discountPercent = 0);
}
