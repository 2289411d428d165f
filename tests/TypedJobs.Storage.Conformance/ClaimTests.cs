namespace TypedJobs.Storage.Conformance;

/// <summary>Claiming: what is claimed, in which order, with which limits.</summary>
public abstract class ClaimTests<TFactory> : StorageTestBase<TFactory>
    where TFactory : IStorageFactory, new()
{
    [Fact]
    public async Task Claim_EmptyStore_ReturnsNothing()
    {
        Assert.Empty(await ClaimAsync());
    }

    [Fact]
    public async Task Claim_MovesJobToRunningWithLeaseFromStoreClock()
    {
        var id = await InsertOneAsync(NewJob());
        Clock.Advance(TimeSpan.FromSeconds(3));

        var claimed = await ClaimOneAsync(lease: TimeSpan.FromSeconds(45), worker: "w-7");
        var stored = await GetAsync(id);

        Assert.Equal(id, claimed.Id);
        foreach (var job in new[] { claimed, stored })
        {
            Assert.Equal(JobState.Running, job.State);
            Assert.Equal(1, job.Attempt);
            Assert.Equal(Now, job.StartedAt);
            Assert.Equal(Now.AddSeconds(45), job.LeaseExpiresAt);
            Assert.NotNull(job.LeaseToken);
            Assert.NotEqual(Guid.Empty, job.LeaseToken);
            Assert.Equal("w-7", job.WorkerId);
        }

        Assert.Equal(claimed.LeaseToken, stored.LeaseToken);
    }

    [Fact]
    public async Task Claim_OrdersByPriorityThenDueTimeThenInsertion()
    {
        var low = NewJob(priority: Priority.Low);
        var normalLate = NewJob(runAt: Now.AddMinutes(-1));
        var normalEarly = NewJob(runAt: Now.AddMinutes(-5));
        var normalSameTimeFirst = NewJob();
        var normalSameTimeSecond = NewJob();
        var critical = NewJob(priority: Priority.Critical);
        var high = NewJob(priority: Priority.High);
        await InsertAsync(low, normalSameTimeFirst, normalLate, critical, normalSameTimeSecond, normalEarly, high);

        var claimed = await ClaimAsync(10);

        Assert.Equal(
            new[] { critical.Id, high.Id, normalEarly.Id, normalLate.Id, normalSameTimeFirst.Id, normalSameTimeSecond.Id, low.Id },
            claimed.Select(j => j.Id));
    }

    [Fact]
    public async Task Claim_InsertionOrderBreaksTiesAcrossSeparateInserts()
    {
        var ids = new List<JobId>();
        for (var i = 0; i < 5; i++)
        {
            ids.Add(await InsertOneAsync(NewJob()));
        }

        var claimed = new List<JobId>();
        for (var i = 0; i < 5; i++)
        {
            claimed.Add((await ClaimOneAsync()).Id);
        }

        Assert.Equal(ids, claimed);
    }

    [Fact]
    public async Task Claim_TakesAtMostMaxAndTheBestFirst()
    {
        var normal = await InsertManyAsync(3);
        var high = await InsertOneAsync(NewJob(priority: Priority.High));

        var claimed = await ClaimAsync(2);

        Assert.Equal([high, normal[0]], claimed.Select(j => j.Id));
        Assert.Equal(2, (await QueueAsync("default"))!.Counts[JobState.Ready]);
    }

    [Fact]
    public async Task Claim_HonoursEachQueuesMaxAndTheTotalMax()
    {
        await InsertManyAsync(3, "a");
        await InsertManyAsync(3, "b");
        await InsertManyAsync(3, "c");

        var result = await Jobs.JobsClaimAsync(new JobsClaimParams
        {
            WorkerId = "w",
            Queues = [new QueueClaim("a", 1), new QueueClaim("b", 3), new QueueClaim("c", 3)],
            Max = 5,
            LeaseDuration = Lease,
        }, Ct);

        Assert.Equal(5, result.Jobs.Count);
        Assert.Single(result.Jobs, j => j.Queue == "a");
        Assert.True(result.Jobs.Count(j => j.Queue == "b") <= 3);
        Assert.True(result.Jobs.Count(j => j.Queue == "c") <= 3);
    }

    [Fact]
    public async Task Claim_AQueueNamedTwice_CountsOnceWithTheSumOfItsMaximums_EvenWhenTheSumOverflowsAnInt()
    {
        await InsertManyAsync(5, "a");
        await InsertManyAsync(2, "b");
        await InsertManyAsync(2, "c");

        var result = await Jobs.JobsClaimAsync(new JobsClaimParams
        {
            WorkerId = "w",
            Queues =
            [
                new QueueClaim("a", 2), new QueueClaim("b", int.MaxValue), new QueueClaim("c", 0),
                new QueueClaim("a", 1), new QueueClaim("b", int.MaxValue), new QueueClaim("c", -1),
            ],
            Max = 10,
            LeaseDuration = Lease,
        }, Ct);

        Assert.Equal(3, result.Jobs.Count(j => j.Queue == "a"));
        Assert.Equal(2, result.Jobs.Count(j => j.Queue == "b"));
        Assert.DoesNotContain(result.Jobs, j => j.Queue == "c");
        Assert.Equal(5, result.Jobs.Count);
        Assert.Equal(2, (await QueueAsync("a"))!.Counts[JobState.Ready]);
    }

    [Fact]
    public async Task Claim_AcrossQueues_TakesHigherPriorityFirstWhenTotalIsTight()
    {
        await InsertAsync(NewJob("a", priority: Priority.Low), NewJob("a", priority: Priority.Low));
        var high = await InsertOneAsync(NewJob("b", priority: Priority.High));

        var result = await Jobs.JobsClaimAsync(new JobsClaimParams
        {
            WorkerId = "w",
            Queues = [new QueueClaim("a", 1), new QueueClaim("b", 1)],
            Max = 1,
            LeaseDuration = Lease,
        }, Ct);

        Assert.Equal(high, Assert.Single(result.Jobs).Id);
    }

    [Fact]
    public async Task Claim_WithATaskCappedInOneQueue_StillTakesThatQueuesHigherPriorityJobsBeforeAnotherQueuesLowerOnes()
    {
        // Queue a: two High jobs of the capped task first, then High jobs of another task. Queue b: Normal jobs.
        var capped = new[] { NewJob("a", task: "capped", priority: Priority.High), NewJob("a", task: "capped", priority: Priority.High) };
        await InsertAsync(capped);
        var high = new[] { NewJob("a", task: "other", priority: Priority.High), NewJob("a", task: "other", priority: Priority.High) };
        await InsertAsync(high);
        var normal = new[] { NewJob("b", task: "other"), NewJob("b", task: "other") };
        await InsertAsync(normal);

        var result = await Jobs.JobsClaimAsync(new JobsClaimParams
        {
            WorkerId = "w",
            Queues = [new QueueClaim("a", 3), new QueueClaim("b", 3)],
            Max = 3,
            LeaseDuration = Lease,
            TaskLimits = new Dictionary<string, int> { ["capped"] = 1 },
        }, Ct);

        // Claim order across the queues: every High job the cap allows comes before any Normal one.
        Assert.Equal([capped[0].Id, high[0].Id, high[1].Id], result.Jobs.Select(j => j.Id));
        Assert.Equal(2, (await QueueAsync("b"))!.Counts[JobState.Ready]);
    }

    [Fact]
    public async Task Claim_ACappedJobThatItsQueuesMaximumLeavesOut_DoesNotUseUpItsTasksCap()
    {
        // Queue a: two High jobs, then an older Normal job of the capped task. Queue b: a Normal job of the capped task,
        // then another Normal job. Queue a's maximum of 2 is spent on its High jobs, so the capped task's one slot goes to
        // queue b's job.
        var aCapped = NewJob("a", task: "capped");
        await InsertAsync(aCapped);
        Clock.Advance(TimeSpan.FromMilliseconds(1));
        var bCapped = NewJob("b", task: "capped");
        await InsertAsync(bCapped);
        Clock.Advance(TimeSpan.FromMilliseconds(1));
        var bOther = NewJob("b", task: "other");
        var aHigh = new[] { NewJob("a", task: "other", priority: Priority.High), NewJob("a", task: "other", priority: Priority.High) };
        await InsertAsync([bOther, .. aHigh]);

        var result = await Jobs.JobsClaimAsync(new JobsClaimParams
        {
            WorkerId = "w",
            Queues = [new QueueClaim("a", 2), new QueueClaim("b", 2)],
            Max = 4,
            LeaseDuration = Lease,
            TaskLimits = new Dictionary<string, int> { ["capped"] = 1 },
        }, Ct);

        Assert.Equal([aHigh[0].Id, aHigh[1].Id, bCapped.Id, bOther.Id], result.Jobs.Select(j => j.Id));
    }

    [Fact]
    public async Task Claim_AcrossQueuesWithQueueMaximumsAndTaskCaps_TakesWhatClaimOrderAndTheLimitsGive_InSeededRandomScenarios()
    {
        // Each scenario: jobs of three tasks at random priorities in one to three queues (a few scheduled for later), then
        // claims with random per-queue maximums, totals and task caps until every due job is taken. Each claim must return
        // exactly what a walk of the due jobs in claim order (priority, due time, insertion) takes under those limits, in
        // that order.
        var random = new Random(20261205);
        string[] tasks = ["t0", "t1", "t2"];
        for (var scenario = 0; scenario < 20; scenario++)
        {
            var queues = Enumerable.Range(0, random.Next(1, 4)).Select(i => $"s{scenario}-q{i}").ToArray();
            var due = new List<(JobInsert Job, int Order)>();
            var count = random.Next(5, 25);
            for (var order = 0; order < count; order++)
            {
                var scheduled = random.Next(8) == 0;
                var job = NewJob(queues[random.Next(queues.Length)], tasks[random.Next(tasks.Length)], (Priority)random.Next(0, 4),
                    delay: scheduled ? TimeSpan.FromHours(1) : null);
                await InsertAsync(job);
                if (!scheduled)
                {
                    due.Add((job, order));
                }

                Clock.Advance(TimeSpan.FromMilliseconds(random.Next(0, 3)));
            }

            for (var claim = 0; due.Count > 0; claim++)
            {
                Assert.True(claim < 200, $"Scenario {scenario}: the due jobs were not all claimed after 200 claims.");
                var maximums = queues.Select(_ => random.Next(0, 4)).ToArray();
                var total = random.Next(1, 8);
                var caps = tasks.Where(_ => random.Next(2) == 0).ToDictionary(t => t, _ => random.Next(0, 3), StringComparer.Ordinal);

                var expected = WalkInClaimOrder(due.OrderByDescending(d => d.Job.Priority).ThenBy(d => d.Order).Select(d => d.Job),
                    j => j.Queue, j => j.TaskName, queues, maximums, total, caps).Select(j => j.Id).ToList();
                var result = await ClaimAcrossAsync(queues, maximums, total, caps, Lease);

                var limits = $"scenario {scenario}, claim {claim}: maximums [{string.Join(", ", maximums)}], total {total}, caps " +
                    $"{{{string.Join(", ", caps.Select(c => $"{c.Key}={c.Value}"))}}}";
                Assert.True(expected.SequenceEqual(result.Jobs.Select(j => j.Id)),
                    $"{limits}: expected [{string.Join(", ", expected)}], claimed [{string.Join(", ", result.Jobs.Select(j => j.Id))}]");
                due.RemoveAll(d => expected.Contains(d.Job.Id));
            }
        }
    }

    [Fact]
    public async Task SeededRandomSequencesOfClaimsCompletionsAndAdminActions_KeepClaimOrderAndEveryQueuesCounts()
    {
        // Inserts, claims with random maximums and task caps, completions, cancels, retries, deletes, pauses and clock
        // moves in two queues, checked after every step against a model of the contract: each claim takes exactly what a
        // walk of the due jobs of unpaused queues in claim order (priority, due time, insertion) gives under its limits,
        // and each queue's count per state is the model's.
        var random = new Random(5122026);
        string[] queues = ["m-a", "m-b"];
        string[] tasks = ["t0", "t1", "t2"];
        var longLease = TimeSpan.FromDays(7);
        var model = new List<ModelJob>();
        var paused = new HashSet<string>(StringComparer.Ordinal);
        var order = 0;
        for (var step = 0; step < 600; step++)
        {
            var op = random.Next(100);
            string what;
            if (op < 25)
            {
                // One job per insert, each a millisecond after the last: every due time is distinct, so claim order is
                // decided by priority and due time alone (ties across queues are left to other tests).
                var inserts = random.Next(1, 4);
                for (var i = 0; i < inserts; i++)
                {
                    Clock.Advance(TimeSpan.FromMilliseconds(1));
                    var later = random.Next(6) == 0;
                    var job = NewJob(queues[random.Next(queues.Length)], tasks[random.Next(tasks.Length)], (Priority)random.Next(0, 4),
                        delay: later ? TimeSpan.FromHours(1) : null);
                    model.Add(new ModelJob(job.Id, job.Queue, job.TaskName, job.Priority, order++) { Due = later ? Now.AddHours(1) : Now });
                    await InsertAsync(job);
                }

                what = $"insert {inserts}";
            }
            else if (op < 50)
            {
                var maximums = queues.Select(_ => random.Next(0, 5)).ToArray();
                var total = random.Next(1, 8);
                var caps = tasks.Where(_ => random.Next(3) == 0).ToDictionary(t => t, _ => random.Next(0, 3), StringComparer.Ordinal);
                what = $"claim: maximums [{string.Join(", ", maximums)}], total {total}, caps {{{string.Join(", ", caps.Select(c => $"{c.Key}={c.Value}"))}}}";
                var expected = WalkInClaimOrder(model.Where(j => j.State == JobState.Ready && j.Due <= Now && !paused.Contains(j.Queue))
                    .OrderByDescending(j => j.Priority).ThenBy(j => j.Due).ThenBy(j => j.Order), j => j.Queue, j => j.Task, queues, maximums, total, caps);
                var result = await ClaimAcrossAsync(queues, maximums, total, caps, longLease);
                Assert.True(expected.Select(j => j.Id).SequenceEqual(result.Jobs.Select(j => j.Id)),
                    $"step {step}, {what}: expected [{string.Join(", ", expected.Select(j => j.Id))}], claimed [{string.Join(", ", result.Jobs.Select(j => j.Id))}]; " +
                    $"due jobs in claim order: {string.Join("; ", model.Where(j => j.State == JobState.Ready && j.Due <= Now && !paused.Contains(j.Queue)).OrderByDescending(j => j.Priority).ThenBy(j => j.Due).ThenBy(j => j.Order).Select(j => $"{j.Id} {j.Queue} {j.Task} {j.Priority} {j.Due:HH:mm:ss.fff}"))}");
                foreach (var claimed in result.Jobs)
                {
                    var job = model.Single(j => j.Id == claimed.Id);
                    job.State = JobState.Running;
                    job.Claimed = claimed;
                }
            }
            else if (op < 63 && model.Where(j => j.State == JobState.Running).ToArray() is { Length: > 0 } running)
            {
                var job = running[random.Next(running.Length)];
                var (target, delay) = random.Next(4) switch
                {
                    0 => (JobState.Succeeded, (TimeSpan?)null),
                    1 => (JobState.Dead, null),
                    2 => (JobState.Ready, TimeSpan.Zero),
                    _ => (JobState.Ready, TimeSpan.FromHours(1)),
                };
                what = $"complete {job.Id} to {target} (delay {delay})";
                Clock.Advance(TimeSpan.FromMilliseconds(1));
                Assert.True(await CompleteAsync(job.Claimed!, target, delay), what);
                job.State = target;
                if (target == JobState.Ready)
                {
                    job.Due = Now + delay!.Value;
                }
            }
            else if (op < 83 && model.Count > 0)
            {
                var job = model[random.Next(model.Count)];
                switch (random.Next(3))
                {
                    case 0:
                        what = $"cancel {job.Id} ({job.State})";
                        var cancelled = await CancelJobAsync(job.Id);
                        var unfinished = job.State is JobState.Ready or JobState.Running;
                        Assert.True(unfinished == cancelled.Cancelled, what);
                        if (unfinished)
                        {
                            job.State = JobState.Cancelled;
                        }

                        break;
                    case 1:
                        what = $"retry {job.Id} ({job.State})";
                        Clock.Advance(TimeSpan.FromMilliseconds(1));
                        var retryable = job.State is JobState.Dead or JobState.Cancelled;
                        Assert.True(retryable == await RetryJobAsync(job.Id), what);
                        if (retryable)
                        {
                            job.State = JobState.Ready;
                            job.Due = Now;
                        }

                        break;
                    default:
                        what = $"delete {job.Id} ({job.State})";
                        Assert.True(await DeleteJobAsync(job.Id), what);
                        model.Remove(job);
                        break;
                }
            }
            else if (op < 93)
            {
                var by = random.Next(5) == 0 ? TimeSpan.FromHours(2) : TimeSpan.FromMilliseconds(random.Next(1, 4));
                Clock.Advance(by);
                what = $"advance {by}";
            }
            else
            {
                var queue = queues[random.Next(queues.Length)];
                if (paused.Remove(queue))
                {
                    await Admin.QueuesResumeAsync(new QueuesResumeParams(queue), Ct);
                    what = $"resume {queue}";
                }
                else
                {
                    paused.Add(queue);
                    await Admin.QueuesPauseAsync(new QueuesPauseParams(queue), Ct);
                    what = $"pause {queue}";
                }
            }

            var listed = await QueuesAsync();
            foreach (var queue in queues)
            {
                var counts = listed.SingleOrDefault(q => q.Name == queue)?.Counts;
                foreach (var state in JobStates.All)
                {
                    var expected = model.Count(j => j.Queue == queue && (state switch
                    {
                        JobState.Scheduled => j.State == JobState.Ready && j.Due > Now,
                        JobState.Ready => j.State == JobState.Ready && j.Due <= Now,
                        _ => j.State == state,
                    }));
                    Assert.True(expected == (counts?.GetValueOrDefault(state) ?? 0),
                        $"step {step}, after {what}: queue {queue} has {counts?.GetValueOrDefault(state) ?? 0} {state}, the model {expected}");
                }
            }
        }
    }

    /// <summary>
    /// What a claim must take from <paramref name="dueInClaimOrder"/>: each job in turn while its queue's maximum, its
    /// task's cap and the total have room.
    /// </summary>
    private static List<T> WalkInClaimOrder<T>(IEnumerable<T> dueInClaimOrder, Func<T, string> queueOf, Func<T, string> taskOf,
        string[] queues, int[] maximums, int total, Dictionary<string, int> caps)
    {
        var left = (int[])maximums.Clone();
        var capLeft = new Dictionary<string, int>(caps, StringComparer.Ordinal);
        var taken = new List<T>();
        foreach (var job in dueInClaimOrder)
        {
            if (taken.Count == total)
            {
                break;
            }

            var q = Array.IndexOf(queues, queueOf(job));
            var task = taskOf(job);
            if (left[q] <= 0 || (capLeft.TryGetValue(task, out var room) && room <= 0))
            {
                continue;
            }

            taken.Add(job);
            left[q]--;
            if (capLeft.ContainsKey(task))
            {
                capLeft[task]--;
            }
        }

        return taken;
    }

    /// <summary>One claim across <paramref name="queues"/> with their maximums, a total and task caps (none when empty).</summary>
    private async Task<JobsClaimResult> ClaimAcrossAsync(string[] queues, int[] maximums, int total, Dictionary<string, int> caps, TimeSpan lease) =>
        await Jobs.JobsClaimAsync(new JobsClaimParams
        {
            WorkerId = "w",
            Queues = queues.Select((name, i) => new QueueClaim(name, maximums[i])).ToArray(),
            Max = total,
            LeaseDuration = lease,
            TaskLimits = caps.Count == 0 ? null : caps,
        }, Ct).ConfigureAwait(false);

    /// <summary>A job as the contract says it should be (<see cref="JobState.Ready"/> stands for waiting, due or not).</summary>
    private sealed record ModelJob(JobId Id, string Queue, string Task, Priority Priority, int Order)
    {
        public JobState State { get; set; } = JobState.Ready;

        public DateTimeOffset Due { get; set; }

        public JobRecord? Claimed { get; set; }
    }

    [Fact]
    public async Task Claim_IgnoresQueuesNotAskedFor()
    {
        await InsertManyAsync(2, "other");

        Assert.Empty(await ClaimAsync(10, "default"));
        Assert.Equal(2, (await QueueAsync("other"))!.Counts[JobState.Ready]);
    }

    [Fact]
    public async Task Claim_SkipsScheduledJobsUntilTheyAreDue()
    {
        var later = await InsertOneAsync(NewJob(delay: TimeSpan.FromSeconds(10)));

        var early = await ClaimAsync();
        Clock.Advance(TimeSpan.FromSeconds(10));
        var due = await ClaimAsync();

        Assert.Empty(early);
        Assert.Equal(later, Assert.Single(due).Id);
    }

    [Fact]
    public async Task Claim_ReportsWhenTheNextScheduledJobBecomesDue()
    {
        await InsertOneAsync(NewJob(delay: TimeSpan.FromSeconds(20)));
        await InsertOneAsync(NewJob(delay: TimeSpan.FromSeconds(10)));

        var next = await NextDueInAsync();

        // NextDueIn is optional ("if the store knows cheaply"), but when given it must be right (a duration by the store's clock).
        Assert.True(next is null || next == TimeSpan.FromSeconds(10), $"{next}");
    }

    [Fact]
    public async Task Claim_NextDueIn_IsTheEarliestDueTimeWhateverItsPriority()
    {
        await InsertOneAsync(NewJob(priority: Priority.Critical, delay: TimeSpan.FromSeconds(30)));
        await InsertOneAsync(NewJob(priority: Priority.Normal, delay: TimeSpan.FromSeconds(20)));
        await InsertOneAsync(NewJob(priority: Priority.Low, delay: TimeSpan.FromSeconds(10)));
        await InsertOneAsync(NewJob(priority: Priority.Low, delay: TimeSpan.FromSeconds(40)));

        var next = await NextDueInAsync();

        Assert.True(next is null || next == TimeSpan.FromSeconds(10), $"{next}");
    }

    [Fact]
    public async Task Claim_NextDueIn_OnlyConsidersTheClaimedQueues()
    {
        await InsertOneAsync(NewJob("other", delay: TimeSpan.FromSeconds(5)));
        await InsertOneAsync(NewJob(delay: TimeSpan.FromSeconds(30)));

        var next = await NextDueInAsync();

        Assert.True(next is null || next == TimeSpan.FromSeconds(30), $"{next}");
    }

    /// <summary>Claims from the default queue, where nothing is due yet, and returns when the store says the next job is.</summary>
    private async Task<TimeSpan?> NextDueInAsync()
    {
        var result = await Jobs.JobsClaimAsync(new JobsClaimParams
        {
            WorkerId = "w",
            Queues = [new QueueClaim("default", 5)],
            Max = 5,
            LeaseDuration = Lease,
        }, Ct);

        Assert.Empty(result.Jobs);
        return result.NextDueIn;
    }

    [Fact]
    public async Task Claim_NeverHandsOneJobToTwoWorkers()
    {
        var id = await InsertOneAsync(NewJob());

        var first = await ClaimAsync(worker: "w1");
        var second = await ClaimAsync(worker: "w2");

        Assert.Equal(id, Assert.Single(first).Id);
        Assert.Empty(second);
    }

    [Fact]
    public async Task Claim_ConcurrentClaimers_NeverShareAJob()
    {
        var ids = await InsertManyAsync(60);
        using var start = new ManualResetEventSlim();
        var claimers = Enumerable.Range(0, 8).Select(w => Task.Run(async () =>
        {
            start.Wait(Ct);
            var mine = new List<JobId>();
            while (true)
            {
                var jobs = await ClaimAsync(3, worker: $"w{w}");
                if (jobs.Count == 0)
                {
                    return mine;
                }

                mine.AddRange(jobs.Select(j => j.Id));
            }
        })).ToArray();

        start.Set();
        var claimed = (await Task.WhenAll(claimers)).SelectMany(x => x).ToList();

        Assert.Equal(ids.Length, claimed.Count);
        Assert.Equal(ids.OrderBy(i => i), claimed.OrderBy(i => i));
    }

    [Fact]
    public async Task Claim_EachClaimGetsAFreshLeaseToken()
    {
        await InsertManyAsync(3);
        var first = await ClaimAsync(3);
        Assert.True(await CompleteAsync(first[0], JobState.Ready, attemptDelta: -1));

        var again = await ClaimOneAsync();

        Assert.Equal(3, first.Select(j => j.LeaseToken).Distinct().Count());
        Assert.Equal(first[0].Id, again.Id);
        Assert.NotEqual(first[0].LeaseToken, again.LeaseToken);
    }

    [Fact]
    public async Task Claim_TaskLimitOfZero_SkipsThatTask()
    {
        await InsertAsync(NewJob(task: "limited", priority: Priority.High), NewJob(task: "free"));

        var claimed = await ClaimAsync(10, taskLimits: new Dictionary<string, int> { ["limited"] = 0 });

        Assert.Equal("free", Assert.Single(claimed).TaskName);
        Assert.Equal(1, (await QueueAsync("default"))!.Counts[JobState.Ready]);
    }

    [Fact]
    public async Task Claim_TaskLimit_CapsThatTaskAndFillsWithOthers()
    {
        await InsertAsync(Enumerable.Range(0, 5).Select(_ => NewJob(task: "limited", priority: Priority.High)).ToArray());
        await InsertAsync(Enumerable.Range(0, 5).Select(_ => NewJob(task: "free")).ToArray());

        var claimed = await ClaimAsync(5, taskLimits: new Dictionary<string, int> { ["limited"] = 2 });

        Assert.Equal(2, claimed.Count(j => j.TaskName == "limited"));
        Assert.Equal(3, claimed.Count(j => j.TaskName == "free"));
    }

    [Fact]
    public async Task Claim_WithATaskAtItsCapAheadOfTheOthers_TakesTheOtherTasksInClaimOrder_AndOnlyDueOnes()
    {
        // The capped task's backlog sits ahead of everything else in claim order.
        await InsertAsync(Enumerable.Range(0, 40).Select(_ => NewJob(task: "capped", priority: Priority.Critical)).ToArray());
        var low = NewJob(task: "c", priority: Priority.Low);
        var normal = Enumerable.Range(0, 3).Select(_ => NewJob(task: "a")).ToArray();
        var high = NewJob(task: "b", priority: Priority.High);
        await InsertAsync([low, .. normal, high, NewJob(task: "a", delay: TimeSpan.FromHours(1)), NewJob(task: "d", delay: TimeSpan.FromHours(1))]);

        var claimed = await ClaimAsync(10, taskLimits: new Dictionary<string, int> { ["capped"] = 0, ["a"] = 2 });

        Assert.Equal([high.Id, normal[0].Id, normal[1].Id, low.Id], claimed.Select(j => j.Id));
        await Admin.QueuesPauseAsync(new QueuesPauseParams("default"), Ct);
        Assert.Empty(await ClaimAsync(10, taskLimits: new Dictionary<string, int> { ["capped"] = 0 }));
    }
}
