namespace TypedJobs.Storage.Redis.Internal;

/// <summary>
/// Every Lua script of the Redis store, in one place. Scripts take their data from KEYS and ARGV only; keys of one queue
/// are derived inside a script from the queue's key base (ARGV[2], e.g. <c>{app:q:emails}</c>), so every key a script
/// touches shares the queue's hash tag and lives in one cluster slot. They are loaded once per server and called by
/// SHA (<see cref="RedisConnection"/> reloads them on NOSCRIPT).
/// <para>
/// Layout of one queue (base <c>{P q:NAME}</c>): <c>:j:ID</c> job hash; <c>:r</c> ready (score = priority rank · 2^49 +
/// due time in ms, ties by member = rank, sequence, id, task); <c>:s</c> scheduled (score = due time in µs); <c>:w</c>
/// running (score = lease expiry in µs); <c>:a</c> every job by sequence (admin lists, newest first); <c>:f3</c>,
/// <c>:f4</c>, <c>:f5</c> succeeded, dead and cancelled jobs by finish time (prune); <c>:k</c> the tasks with parked ready
/// jobs, <c>:k:TASK</c> a task's ready jobs set aside from <c>:r</c> (same scores and members) once a claim found the task
/// at its cap, so later claims skip them without reading them; <c>:n</c> last sequence; <c>:p</c>
/// paused flag; <c>:u:KEY</c> unique key → job id (SET NX); <c>:t</c> throughput per minute; <c>:x:ID</c> the result of a
/// succeeded job ('v' + token → value, 'e' + token → expiry; PEXPIRE). Times are integers: µs since the Unix epoch. Job hash fields: t task, p
/// priority, s state (1 waiting, 2 running, 3 succeeded, 4 dead, 5 cancelled; a waiting job is scheduled or ready by its
/// due time), pl payload, a attempt, mr max retries, c created, d due, st started, f finished, le lease expiry, lt lease
/// token, sl succeeded token, w worker, u unique key, uu kept until pruned, e last error, uk unknown task since, pr
/// progress, pm progress message, tp/ts trace context, n sequence.
/// </para>
/// </summary>
internal static class RedisScripts
{
    /// <summary>Helpers every script starts with.</summary>
    private const string Prelude = """
        local function now_us(a)
          if a ~= '' then return tonumber(a) end
          local t = redis.call('TIME')
          return tonumber(t[1]) * 1000000 + tonumber(t[2])
        end
        local function fmt(n) return string.format('%d', n) end
        local JOB_FIELDS = {'t', 'p', 's', 'pl', 'a', 'mr', 'c', 'd', 'st', 'f', 'le', 'lt', 'sl', 'w', 'u', 'e', 'uk', 'pr', 'pm', 'tp', 'ts', 'n'}
        local function job_fields(key) return redis.call('HMGET', key, unpack(JOB_FIELDS)) end
        local function opt(v) if v == '' then return false end return string.sub(v, 2) end
        local function member(p, n, id, task)
          local rank = 8 - p
          if rank < 0 then rank = 0 elseif rank > 15 then rank = 15 end
          return string.format('%x', rank) .. string.format('%016d', n) .. id .. task
        end
        local function ready_score(m, due)
          local ms = math.floor(due / 1000) + 62135596800000
          if ms < 0 then ms = 0 elseif ms > 562949953421311 then ms = 562949953421311 end
          return tonumber(string.sub(m, 1, 1), 16) * 562949953421312 + ms
        end
        local function waiting_state(s, d, now)
          if s == '1' then
            if tonumber(d) > now then return 0 end
            return 1
          end
          return tonumber(s)
        end
        local function release_key(qt, id, u)
          if u then
            local k = qt .. ':u:' .. u
            if redis.call('GET', k) == id then redis.call('DEL', k) end
          end
        end
        local function make_waiting(qt, m, due, now)
          if due <= now then
            redis.call('ZADD', qt .. ':r', ready_score(m, due), m)
            return 1
          end
          redis.call('ZADD', qt .. ':s', due, m)
          return 0
        end

        """;

    /// <summary>
    /// The claim's two steps over one queue's waiting jobs. <c>promote_due</c> makes due scheduled jobs ready (at most
    /// <c>most</c>). <c>ready_pick</c> picks ready jobs in claim order across <c>:r</c> and the parked sets
    /// <c>:k:TASK</c>, holding tasks to their limits. A job of <c>:r</c> whose task is at its limit is parked on the way (moved to its task's parked set,
    /// with its score), so no later claim reads past it again; a parked set is read only while its task has room. At most
    /// <c>budget</c> jobs of <c>:r</c> are examined per call. Returns the picks as (member, score, key) in claim order;
    /// the caller removes the ones it takes.
    /// </summary>
    private const string ReadyPick = """
        local function promote_due(qt, now, most)
          local due = redis.call('ZRANGEBYSCORE', qt .. ':s', '-inf', now, 'WITHSCORES', 'LIMIT', 0, most)
          for k = 1, #due, 2 do
            redis.call('ZADD', qt .. ':r', ready_score(due[k], tonumber(due[k + 1])), due[k])
            redis.call('ZREM', qt .. ':s', due[k])
          end
        end
        local function ready_pick(qt, max, budget, limits)
          local function stream(key, task) return {key = key, task = task, buf = {}, pos = 1, start = 0, done = false} end
          local function head(st)
            if st.pos > #st.buf then
              if st.done then return nil end
              st.buf = redis.call('ZRANGE', st.key, st.start, st.start + 199, 'WITHSCORES')
              st.pos = 1
              st.start = st.start + 200
              if #st.buf < 400 then st.done = true end
              if #st.buf == 0 then return nil end
            end
            return st.buf[st.pos], tonumber(st.buf[st.pos + 1])
          end
          local main = stream(qt .. ':r', false)
          local parked = {}
          local tasks = redis.call('SMEMBERS', qt .. ':k')
          for k = 1, #tasks do
            local key = qt .. ':k:' .. tasks[k]
            -- Read only when its task has room (lazily, by head()): a task at its cap costs this check alone.
            if redis.call('EXISTS', key) == 1 then parked[#parked + 1] = stream(key, tasks[k]) else redis.call('SREM', qt .. ':k', tasks[k]) end
          end
          local picks, park, scanned = {}, {}, 0
          while #picks < max do
            local m, sc = nil, nil
            -- Once the budget is spent, the next unread job of :r bounds what a parked set may give: every job after it
            -- sorts after it, so a parked job before it still comes first in claim order, and one after it must wait.
            local bound, bscore = nil, nil
            while true do
              m, sc = head(main)
              if not m then break end
              if scanned >= budget then
                bound, bscore, m, sc = m, sc, nil, nil
                break
              end
              local task = string.sub(m, 50)
              local left = limits[task]
              if left == nil or left > 0 then break end
              park[#park + 1] = {m, sc, task}
              main.pos = main.pos + 2
              scanned = scanned + 1
              m = nil
            end
            local best, score, from = m, sc, main
            if bound then best, score = bound, bscore end
            for k = 1, #parked do
              local st = parked[k]
              local left = limits[st.task]
              if left == nil or left > 0 then
                local pm, ps = head(st)
                if pm and (not best or ps < score or (ps == score and pm < best)) then best, score, from = pm, ps, st end
              end
            end
            if bound and from == main then break end
            if not best then break end
            from.pos = from.pos + 2
            if from == main then scanned = scanned + 1 end
            picks[#picks + 1] = {best, score, from.key}
            local task = string.sub(best, 50)
            if limits[task] then limits[task] = limits[task] - 1 end
          end
          for k = 1, #park do
            local x = park[k]
            redis.call('ZREM', qt .. ':r', x[1])
            redis.call('ZADD', qt .. ':k:' .. x[3], x[2], x[1])
            redis.call('SADD', qt .. ':k', x[3])
          end
          return picks
        end

        """;

    /// <summary>Helpers of the operator actions (cancel, retry, delete), shared by single and bulk actions.</summary>
    private const string Actions = """
        local ACTION_FIELDS = {'s', 'd', 't', 'a', 'p', 'n', 'u', 'uu'}
        local function unindex(qt, id, h)
          local m = member(tonumber(h[5]), tonumber(h[6]), id, h[3])
          if h[1] == '1' then
            redis.call('ZREM', qt .. ':r', m)
            redis.call('ZREM', qt .. ':s', m)
            redis.call('ZREM', qt .. ':k:' .. h[3], m)
          elseif h[1] == '2' then
            redis.call('ZREM', qt .. ':w', m)
          else
            redis.call('ZREM', qt .. ':f' .. h[1], id)
          end
          return m
        end
        local function cancel_job(qt, id, h, now)
          local key = qt .. ':j:' .. id
          unindex(qt, id, h)
          redis.call('HSET', key, 's', '5', 'f', fmt(now))
          redis.call('HDEL', key, 'lt', 'le')
          redis.call('ZADD', qt .. ':f5', now, id)
          if h[7] and h[8] ~= '1' then
            release_key(qt, id, h[7])
            redis.call('HDEL', key, 'u')
          end
        end
        local function retry_job(qt, id, h, now)
          local key = qt .. ':j:' .. id
          local m = unindex(qt, id, h)
          redis.call('HSET', key, 's', '1', 'a', '0', 'd', fmt(now))
          redis.call('HDEL', key, 'f', 'uk')
          make_waiting(qt, m, now, now)
        end
        local function delete_job(qt, id, h)
          unindex(qt, id, h)
          release_key(qt, id, h[7])
          redis.call('DEL', qt .. ':j:' .. id, qt .. ':x:' .. id)
          redis.call('ZREM', qt .. ':a', id)
        end
        local function bulk_applies(action, state)
          if action == '0' then return state == 4 or state == 5 end
          if action == '1' then return state < 3 end
          return true
        end

        """;

    /// <summary>The filter of lists, counts and bulk actions (ARGV from index <c>f</c> on: state, task, created after/before, text).</summary>
    private const string Filter = """
        local function read_filter(f)
          return { state = ARGV[f], task = opt(ARGV[f + 1]), after = ARGV[f + 2], before = ARGV[f + 3], text = opt(ARGV[f + 4]) }
        end
        local function matches(flt, key, now)
          local h = redis.call('HMGET', key, 's', 'd', 't', 'c')
          if not h[1] then return false, nil end
          local state = waiting_state(h[1], h[2], now)
          if flt.state ~= '' and state ~= tonumber(flt.state) then return false, state end
          if flt.task and h[3] ~= flt.task then return false, state end
          if flt.after ~= '' and tonumber(h[4]) < tonumber(flt.after) then return false, state end
          if flt.before ~= '' and tonumber(h[4]) >= tonumber(flt.before) then return false, state end
          if flt.text then
            local b = redis.call('HMGET', key, 'pl', 'e')
            local found = string.find(string.lower(b[1] or ''), flt.text, 1, true)
            if not found and b[2] then found = string.find(string.lower(b[2]), flt.text, 1, true) end
            if not found then return false, state end
          end
          return true, state
        end

        """;

    /// <summary>
    /// Inserts jobs of one queue. ARGV: now, base, count, then per job: id, task, priority, payload, max retries, due (µs,
    /// or '' for now + delay), delay (µs), unique key (opt), kept until pruned ('1'), traceparent (opt), tracestate (opt).
    /// Returns per job (status, id): 1 inserted, 0 the id exists, 2 the unique key is held by the returned id; then 1
    /// when a job became ready.
    /// </summary>
    public const string Insert = Prelude + """
        local now = now_us(ARGV[1])
        local qt = ARGV[2]
        local count = tonumber(ARGV[3])
        local last = tonumber(redis.call('GET', qt .. ':n') or '0')
        local out = {}
        local ready = 0
        local i = 4
        for j = 1, count do
          local id, task, pri, payload, mr = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3], ARGV[i + 4]
          local dueabs, delay, ukey, uu, tp, ts = ARGV[i + 5], ARGV[i + 6], opt(ARGV[i + 7]), ARGV[i + 8], opt(ARGV[i + 9]), opt(ARGV[i + 10])
          i = i + 11
          local key = qt .. ':j:' .. id
          if redis.call('EXISTS', key) == 1 then
            out[#out + 1] = 0
            out[#out + 1] = id
          else
            local holder = false
            if ukey then
              local uk = qt .. ':u:' .. ukey
              if not redis.call('SET', uk, id, 'NX') then holder = redis.call('GET', uk) end
            end
            if holder then
              out[#out + 1] = 2
              out[#out + 1] = holder
            else
              local due, dstr
              if dueabs ~= '' then
                due = tonumber(dueabs)
                dstr = dueabs
              else
                due = now + tonumber(delay)
                dstr = fmt(due)
              end
              local seq = last + 1
              if now > seq then seq = now end
              last = seq
              local fields = {'t', task, 'p', pri, 's', '1', 'pl', payload, 'a', '0', 'mr', mr, 'c', fmt(now), 'd', dstr, 'n', fmt(seq)}
              if ukey then
                fields[#fields + 1] = 'u'
                fields[#fields + 1] = ukey
                if uu == '1' then
                  fields[#fields + 1] = 'uu'
                  fields[#fields + 1] = '1'
                end
              end
              if tp then
                fields[#fields + 1] = 'tp'
                fields[#fields + 1] = tp
              end
              if ts then
                fields[#fields + 1] = 'ts'
                fields[#fields + 1] = ts
              end
              redis.call('HSET', key, unpack(fields))
              redis.call('ZADD', qt .. ':a', seq, id)
              ready = math.max(ready, make_waiting(qt, member(tonumber(pri), seq, id, task), due, now))
              out[#out + 1] = 1
              out[#out + 1] = id
            end
          end
        end
        redis.call('SET', qt .. ':n', fmt(last))
        out[#out + 1] = ready
        return out
        """;

    /// <summary>
    /// Claims up to max due jobs of one queue in claim order. ARGV: now, base, max, lease (µs), worker, token base (28
    /// hex), promote limit, scan budget, number of task limits, then (task, limit) pairs. Returns now, the time until the
    /// next scheduled job (µs, or -1), then (id, job fields) per claimed job.
    /// </summary>
    public const string Claim = Prelude + ReadyPick + """
        local now = now_us(ARGV[1])
        local qt = ARGV[2]
        local max = tonumber(ARGV[3])
        if redis.call('EXISTS', qt .. ':p') == 1 then return {fmt(now), '-1'} end
        promote_due(qt, now, tonumber(ARGV[7]))
        local taken = {}
        local nl = tonumber(ARGV[9])
        if max > 0 and nl == 0 and redis.call('EXISTS', qt .. ':k') == 0 then
          local popped = redis.call('ZPOPMIN', qt .. ':r', max)
          for k = 1, #popped, 2 do taken[#taken + 1] = popped[k] end
        elseif max > 0 then
          local limits = {}
          for k = 0, nl - 1 do limits[ARGV[10 + 2 * k]] = tonumber(ARGV[11 + 2 * k]) end
          local picks = ready_pick(qt, max, tonumber(ARGV[8]), limits)
          for k = 1, #picks do
            redis.call('ZREM', picks[k][3], picks[k][1])
            taken[#taken + 1] = picks[k][1]
          end
        end
        local lease = now + tonumber(ARGV[4])
        local nstr, lstr, worker = fmt(now), fmt(lease), ARGV[5]
        local out = {nstr, '-1'}
        for k = 1, #taken do
          local m = taken[k]
          local id = string.sub(m, 18, 49)
          local key = qt .. ':j:' .. id
          -- The fields are read once, before the claim's writes, and returned as those writes leave them: one HSET
          -- (attempt included) and an HDEL only when progress was recorded.
          local f = job_fields(key)
          -- Only a waiting job is leased: a member left behind by a change that missed it (a worker of an earlier
          -- version cancelling a parked job) is dropped.
          if f[1] and f[3] == '1' then
            local a = fmt(tonumber(f[5]) + 1)
            local token = ARGV[6] .. string.format('%04x', k)
            redis.call('HSET', key, 's', '2', 'a', a, 'lt', token, 'le', lstr, 'st', nstr, 'w', worker)
            if f[18] or f[19] then redis.call('HDEL', key, 'pr', 'pm') end
            redis.call('ZADD', qt .. ':w', lease, m)
            f[3], f[5], f[9], f[11], f[12], f[14], f[18], f[19] = '2', a, nstr, lstr, token, worker, false, false
            out[#out + 1] = id
            out[#out + 1] = f
          end
        end
        if #taken < max then
          local first = redis.call('ZRANGE', qt .. ':s', 0, 0, 'WITHSCORES')
          if #first > 0 then out[2] = fmt(math.max(0, tonumber(first[2]) - now)) end
        end
        return out
        """;

    /// <summary>
    /// Puts back the jobs that one claim of one queue leased, found by the claim's token base (ARGV[6] of the claim): each
    /// returns to waiting with the attempt the claim counted taken back, as if the claim had not happened. ARGV: now, base,
    /// token base, most (the claim's max). Returns the number of jobs put back, then 1 when a job became ready.
    /// </summary>
    public const string ClaimRelease = Prelude + """
        local now = now_us(ARGV[1])
        local qt = ARGV[2]
        local base = ARGV[3]
        local most = tonumber(ARGV[4])
        local running = redis.call('ZRANGE', qt .. ':w', 0, -1)
        local released, wake = 0, 0
        for k = 1, #running do
          if released >= most then break end
          local m = running[k]
          local id = string.sub(m, 18, 49)
          local key = qt .. ':j:' .. id
          local h = redis.call('HMGET', key, 's', 'lt', 'a', 'd')
          if h[1] == '2' and h[2] and string.sub(h[2], 1, #base) == base then
            redis.call('ZREM', qt .. ':w', m)
            redis.call('HDEL', key, 'lt', 'le')
            local a = tonumber(h[3]) - 1
            if a < 0 then a = 0 end
            redis.call('HSET', key, 's', '1', 'a', fmt(a))
            wake = math.max(wake, make_waiting(qt, m, tonumber(h[4]), now))
            released = released + 1
          end
        end
        return {released, wake}
        """;

    /// <summary>
    /// The jobs one queue would hand out, in claim order, without claiming them: ready jobs, after due scheduled ones are
    /// made ready and jobs of tasks at their limit are parked, as a claim does. ARGV: now, base, most, scan budget, number
    /// of task limits, then (task, limit) pairs. Returns (member, score) pairs; empty when the queue is paused.
    /// </summary>
    public const string Peek = Prelude + ReadyPick + """
        local now = now_us(ARGV[1])
        local qt = ARGV[2]
        local max = tonumber(ARGV[3])
        local budget = tonumber(ARGV[4])
        if max <= 0 or redis.call('EXISTS', qt .. ':p') == 1 then return {} end
        local limits = {}
        for k = 0, tonumber(ARGV[5]) - 1 do limits[ARGV[6 + 2 * k]] = tonumber(ARGV[7 + 2 * k]) end
        promote_due(qt, now, budget)
        local picks = ready_pick(qt, max, budget, limits)
        local out = {}
        for k = 1, #picks do
          out[#out + 1] = picks[k][1]
          out[#out + 1] = string.format('%d', picks[k][2])
        end
        return out
        """;

    /// <summary>
    /// Applies decided completions of one queue, each only while its lease token matches. ARGV: now, base, count, then per
    /// completion: id, token, target ('1' waiting, '3', '4', '5'), delay (µs, or '' to keep the due time), attempt delta,
    /// error (opt), failed ('1'), mark unknown task ('1'), result (opt), result TTL (µs). Returns 1/0 per completion, then
    /// 1 when a job became ready. A job keeps the token and target of the completion that applied (<c>ct</c>), so the same
    /// completion sent again (the call failed or timed out after this queue's script ran, and the writer retries the
    /// batch) answers 1 without applying anything twice; any other completion with that token is still refused.
    /// </summary>
    public const string Complete = Prelude + """
        local now = now_us(ARGV[1])
        local qt = ARGV[2]
        local count = tonumber(ARGV[3])
        local out = {}
        local succeeded, failed, wake = 0, 0, 0
        local i = 4
        for j = 1, count do
          local id, token, target, delay, delta = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3], ARGV[i + 4]
          local err, isfail, mark, result, ttl = opt(ARGV[i + 5]), ARGV[i + 6], ARGV[i + 7], opt(ARGV[i + 8]), ARGV[i + 9]
          i = i + 10
          local key = qt .. ':j:' .. id
          local h = redis.call('HMGET', key, 's', 'lt', 'p', 'n', 't', 'a', 'd', 'u', 'uu', 'uk', 'ct')
          if h[1] ~= '2' or h[2] ~= token then
            if h[11] == token .. target then out[j] = 1 else out[j] = 0 end
          else
            out[j] = 1
            local m = member(tonumber(h[3]), tonumber(h[4]), id, h[5])
            redis.call('ZREM', qt .. ':w', m)
            redis.call('HDEL', key, 'lt', 'le')
            local a = tonumber(h[6]) + tonumber(delta)
            if a < 0 then a = 0 end
            local set = {'a', fmt(a), 'ct', token .. target}
            if err then
              set[#set + 1] = 'e'
              set[#set + 1] = err
            end
            if mark == '1' and not h[10] then
              set[#set + 1] = 'uk'
              set[#set + 1] = fmt(now)
            end
            if target == '1' then
              local due, dstr = tonumber(h[7]), h[7]
              if delay ~= '' then
                due = now + tonumber(delay)
                dstr = fmt(due)
              end
              set[#set + 1] = 's'
              set[#set + 1] = '1'
              set[#set + 1] = 'd'
              set[#set + 1] = dstr
              redis.call('HSET', key, unpack(set))
              wake = math.max(wake, make_waiting(qt, m, due, now))
            else
              set[#set + 1] = 's'
              set[#set + 1] = target
              set[#set + 1] = 'f'
              set[#set + 1] = fmt(now)
              if target == '3' then
                succeeded = succeeded + 1
                set[#set + 1] = 'sl'
                set[#set + 1] = token
                if result then
                  local rk = qt .. ':x:' .. id
                  local ttlus = tonumber(ttl)
                  redis.call('HSET', rk, 'v' .. token, result, 'e' .. token, fmt(now + ttlus))
                  redis.call('PEXPIRE', rk, math.max(1, math.ceil(ttlus / 1000)))
                end
              end
              redis.call('HSET', key, unpack(set))
              redis.call('ZADD', qt .. ':f' .. target, now, id)
              if h[8] and h[9] ~= '1' then
                release_key(qt, id, h[8])
                redis.call('HDEL', key, 'u')
              end
            end
            if isfail == '1' then failed = failed + 1 end
          end
        end
        if succeeded + failed > 0 then
          local minute = fmt(math.floor(now / 60000000) * 60)
          if succeeded > 0 then redis.call('HINCRBY', qt .. ':t', minute .. ':s', succeeded) end
          if failed > 0 then redis.call('HINCRBY', qt .. ':t', minute .. ':f', failed) end
        end
        out[count + 1] = wake
        return out
        """;

    /// <summary>Extends leases of one queue. ARGV: now, base, lease (µs), count, then (id, token) pairs. Returns the 1-based indexes of lost leases.</summary>
    public const string Extend = Prelude + """
        local now = now_us(ARGV[1])
        local qt = ARGV[2]
        local lease = now + tonumber(ARGV[3])
        local lost = {}
        for j = 0, tonumber(ARGV[4]) - 1 do
          local id, token = ARGV[5 + 2 * j], ARGV[6 + 2 * j]
          local key = qt .. ':j:' .. id
          local h = redis.call('HMGET', key, 's', 'lt', 'p', 'n', 't')
          if h[1] == '2' and h[2] == token then
            redis.call('HSET', key, 'le', fmt(lease))
            redis.call('ZADD', qt .. ':w', lease, member(tonumber(h[3]), tonumber(h[4]), id, h[5]))
          else
            lost[#lost + 1] = j + 1
          end
        end
        return lost
        """;

    /// <summary>Records progress of running jobs of one queue. ARGV: base, count, then (id, token, progress, message (opt)). Returns 1/0 per update.</summary>
    public const string Progress = Prelude + """
        local qt = ARGV[1]
        local out = {}
        for j = 0, tonumber(ARGV[2]) - 1 do
          local id, token, progress, message = ARGV[3 + 4 * j], ARGV[4 + 4 * j], ARGV[5 + 4 * j], opt(ARGV[6 + 4 * j])
          local key = qt .. ':j:' .. id
          local h = redis.call('HMGET', key, 's', 'lt')
          if h[1] == '2' and h[2] == token then
            redis.call('HSET', key, 'pr', progress)
            if message then redis.call('HSET', key, 'pm', message) else redis.call('HDEL', key, 'pm') end
            out[j + 1] = 1
          else
            out[j + 1] = 0
          end
        end
        return out
        """;

    /// <summary>How many leases of one queue expired (read-only). ARGV: now, base.</summary>
    public const string ExpiredCount = Prelude + """
        return redis.call('ZCOUNT', ARGV[2] .. ':w', '-inf', now_us(ARGV[1]))
        """;

    /// <summary>
    /// Rescues expired leases of one queue. ARGV: now, base, max, text before the worker id, text after it for a dead job,
    /// text after it for a returned job. Returns 1 when a job became ready, then (id, task, attempt, new state, worker) per job.
    /// </summary>
    public const string Rescue = Prelude + """
        local now = now_us(ARGV[1])
        local qt = ARGV[2]
        local expired = redis.call('ZRANGEBYSCORE', qt .. ':w', '-inf', now, 'LIMIT', 0, tonumber(ARGV[3]))
        local out = {0}
        local dead = 0
        for k = 1, #expired do
          local m = expired[k]
          local id = string.sub(m, 18, 49)
          local key = qt .. ':j:' .. id
          redis.call('ZREM', qt .. ':w', m)
          local h = redis.call('HMGET', key, 's', 'a', 'mr', 'w', 'd', 'u', 'uu', 't')
          if h[1] == '2' then
            redis.call('HDEL', key, 'lt', 'le')
            local worker = h[4] or ''
            local state
            if tonumber(h[2]) > tonumber(h[3]) then
              state = '4'
              dead = dead + 1
              redis.call('HSET', key, 's', '4', 'f', fmt(now), 'e', ARGV[4] .. worker .. ARGV[5])
              redis.call('ZADD', qt .. ':f4', now, id)
              if h[6] and h[7] ~= '1' then
                release_key(qt, id, h[6])
                redis.call('HDEL', key, 'u')
              end
            else
              state = '1'
              redis.call('HSET', key, 's', '1', 'e', ARGV[4] .. worker .. ARGV[6])
              out[1] = math.max(out[1], make_waiting(qt, m, tonumber(h[5]), now))
            end
            out[#out + 1] = id
            out[#out + 1] = h[8]
            out[#out + 1] = h[2]
            out[#out + 1] = state
            out[#out + 1] = worker
          end
        end
        if dead > 0 then
          redis.call('HINCRBY', qt .. ':t', fmt(math.floor(now / 60000000) * 60) .. ':f', dead)
        end
        return out
        """;

    /// <summary>Reads one job (read-only). KEYS: the job hash. ARGV: now. Returns now and the job's fields (all nil when it does not exist).</summary>
    public const string GetJob = Prelude + """
        return {fmt(now_us(ARGV[1])), job_fields(KEYS[1])}
        """;

    /// <summary>Per-state counts of one queue (read-only). ARGV: now, base. Returns now, scheduled, ready, running, succeeded, dead, cancelled, paused, all.</summary>
    public const string QueueCounts = Prelude + """
        local now = now_us(ARGV[1])
        local qt = ARGV[2]
        local dueNow = redis.call('ZCOUNT', qt .. ':s', '-inf', now)
        local parked = 0
        local tasks = redis.call('SMEMBERS', qt .. ':k')
        for k = 1, #tasks do parked = parked + redis.call('ZCARD', qt .. ':k:' .. tasks[k]) end
        return {fmt(now),
          redis.call('ZCOUNT', qt .. ':s', '(' .. fmt(now), '+inf'),
          redis.call('ZCARD', qt .. ':r') + parked + dueNow,
          redis.call('ZCARD', qt .. ':w'),
          redis.call('ZCARD', qt .. ':f3'),
          redis.call('ZCARD', qt .. ':f4'),
          redis.call('ZCARD', qt .. ':f5'),
          redis.call('EXISTS', qt .. ':p'),
          redis.call('ZCARD', qt .. ':a')}
        """;

    /// <summary>
    /// Lists or counts jobs of one queue that match a filter, newest first, examining at most a budget of jobs (read-only).
    /// ARGV: now, base, mode ('list' or 'count'), upper score bound ('+inf', 'N' or '(N'), most matches, budget, then the
    /// filter (state, task, created after, created before, text). Returns matches, the last sequence examined, 1 when the
    /// queue's end was reached, now, then (id, job fields) per listed job.
    /// </summary>
    public const string Scan = Prelude + Filter + """
        local now = now_us(ARGV[1])
        local qt = ARGV[2]
        local listing = ARGV[3] == 'list'
        local want = tonumber(ARGV[5])
        local budget = tonumber(ARGV[6])
        local flt = read_filter(7)
        local items = redis.call('ZREVRANGEBYSCORE', qt .. ':a', ARGV[4], '-inf', 'WITHSCORES', 'LIMIT', 0, budget)
        local out = {0, '', 0, fmt(now)}
        local found = 0
        local n = #items / 2
        local ended = n < budget
        for k = 1, #items, 2 do
          local id = items[k]
          out[2] = items[k + 1]
          local key = qt .. ':j:' .. id
          local ok = matches(flt, key, now)
          if ok then
            found = found + 1
            if listing then
              out[#out + 1] = id
              out[#out + 1] = job_fields(key)
            end
            if found >= want then
              if k + 1 < #items then ended = false end
              break
            end
          end
        end
        out[1] = found
        if ended then out[3] = 1 end
        return out
        """;

    /// <summary>
    /// Applies a bulk action to jobs of one queue that match a filter, oldest first. ARGV: now, base, action ('0' retry,
    /// '1' cancel, '2' delete), lower score bound ('-inf' or '(N'), most jobs, budget, then the filter. Returns the last
    /// sequence examined, 1 when the queue's end was reached, 1 when a job became ready, then (id, task, previous state,
    /// attempt) per job.
    /// </summary>
    public const string Bulk = Prelude + Actions + Filter + """
        local now = now_us(ARGV[1])
        local qt = ARGV[2]
        local action = ARGV[3]
        local max = tonumber(ARGV[5])
        local budget = tonumber(ARGV[6])
        local flt = read_filter(7)
        local items = redis.call('ZRANGEBYSCORE', qt .. ':a', ARGV[4], '+inf', 'WITHSCORES', 'LIMIT', 0, budget)
        local out = {'', 0, 0}
        local done = 0
        local ended = #items / 2 < budget
        for k = 1, #items, 2 do
          local id = items[k]
          out[1] = items[k + 1]
          local key = qt .. ':j:' .. id
          local ok, state = matches(flt, key, now)
          if ok and bulk_applies(action, state) then
            local h = redis.call('HMGET', key, unpack(ACTION_FIELDS))
            if action == '0' then
              retry_job(qt, id, h, now)
              out[3] = 1
            elseif action == '1' then
              cancel_job(qt, id, h, now)
            else
              delete_job(qt, id, h)
            end
            out[#out + 1] = id
            out[#out + 1] = h[3]
            out[#out + 1] = state
            out[#out + 1] = h[4]
            done = done + 1
            if done >= max then
              if k + 1 < #items then ended = false end
              break
            end
          end
        end
        if ended then out[2] = 1 end
        return out
        """;

    /// <summary>Cancels one job. ARGV: now, base, id. Returns found, cancelled, previous state, task, attempt.</summary>
    public const string Cancel = Prelude + Actions + """
        local now = now_us(ARGV[1])
        local qt, id = ARGV[2], ARGV[3]
        local h = redis.call('HMGET', qt .. ':j:' .. id, unpack(ACTION_FIELDS))
        if not h[1] then return {0, 0, 0, '', 0} end
        local state = waiting_state(h[1], h[2], now)
        if state >= 3 then return {1, 0, state, h[3], h[4]} end
        cancel_job(qt, id, h, now)
        return {1, 1, state, h[3], h[4]}
        """;

    /// <summary>Returns a dead or cancelled job to Ready with its attempts reset. ARGV: now, base, id. Returns 1 when retried.</summary>
    public const string Retry = Prelude + Actions + """
        local now = now_us(ARGV[1])
        local qt, id = ARGV[2], ARGV[3]
        local h = redis.call('HMGET', qt .. ':j:' .. id, unpack(ACTION_FIELDS))
        if h[1] ~= '4' and h[1] ~= '5' then return 0 end
        retry_job(qt, id, h, now)
        return 1
        """;

    /// <summary>Deletes one job in any state. ARGV: base, id. Returns 1 when it existed.</summary>
    public const string Delete = Prelude + Actions + """
        local qt, id = ARGV[1], ARGV[2]
        local h = redis.call('HMGET', qt .. ':j:' .. id, unpack(ACTION_FIELDS))
        if not h[1] then return 0 end
        delete_job(qt, id, h)
        return 1
        """;

    /// <summary>Deletes finished jobs of one queue that finished before a cutoff. ARGV: now, base, age (µs), max, states. Returns the deleted ids.</summary>
    public const string Prune = Prelude + Actions + """
        local now = now_us(ARGV[1])
        local qt = ARGV[2]
        local cutoff = '(' .. fmt(now - tonumber(ARGV[3]))
        local left = tonumber(ARGV[4])
        local out = {}
        for k = 5, #ARGV do
          if left <= 0 then break end
          local ids = redis.call('ZRANGEBYSCORE', qt .. ':f' .. ARGV[k], '-inf', cutoff, 'LIMIT', 0, left)
          for x = 1, #ids do
            local h = redis.call('HMGET', qt .. ':j:' .. ids[x], unpack(ACTION_FIELDS))
            if h[1] then
              delete_job(qt, ids[x], h)
            else
              redis.call('ZREM', qt .. ':f' .. ARGV[k], ids[x])
            end
            out[#out + 1] = ids[x]
          end
          left = left - #ids
        end
        return out
        """;

    /// <summary>Deletes up to a batch of waiting jobs of one queue. ARGV: base, batch. Returns the deleted ids.</summary>
    public const string Clear = Prelude + Actions + """
        local qt = ARGV[1]
        local out = {}
        local sets = {':r', ':s'}
        local tasks = redis.call('SMEMBERS', qt .. ':k')
        for k = 1, #tasks do sets[#sets + 1] = ':k:' .. tasks[k] end
        for _, z in ipairs(sets) do
          local left = tonumber(ARGV[2]) - #out
          if left > 0 then
            local ms = redis.call('ZRANGE', qt .. z, 0, left - 1)
            for k = 1, #ms do
              local id = string.sub(ms[k], 18, 49)
              local h = redis.call('HMGET', qt .. ':j:' .. id, unpack(ACTION_FIELDS))
              if h[1] then delete_job(qt, id, h) else redis.call('ZREM', qt .. z, ms[k]) end
              out[#out + 1] = id
            end
          end
        end
        return out
        """;

    /// <summary>Deletes throughput minutes of one queue before a cutoff. ARGV: cutoff minute (Unix seconds). Returns the deleted minutes.</summary>
    public const string StatsPrune = """
        local key = KEYS[1]
        local cutoff = tonumber(ARGV[1])
        local out = {}
        local fields = redis.call('HKEYS', key)
        for k = 1, #fields do
          local minute = string.match(fields[k], '^(%-?%d+):')
          if minute and tonumber(minute) < cutoff then
            redis.call('HDEL', key, fields[k])
            out[#out + 1] = minute
          end
        end
        return out
        """;

    /// <summary>
    /// Records ids in one shard of the id index unless recorded. KEYS: the shard. ARGV: (id, queue) pairs. Returns per
    /// pair '' when the id is now (or was already) recorded for that queue, else the queue recorded for it.
    /// </summary>
    public const string IndexClaim = """
        local out = {}
        for k = 1, #ARGV, 2 do
          if redis.call('HSETNX', KEYS[1], ARGV[k], ARGV[k + 1]) == 1 then
            out[#out + 1] = ''
          else
            local cur = redis.call('HGET', KEYS[1], ARGV[k])
            if cur == ARGV[k + 1] then out[#out + 1] = '' else out[#out + 1] = cur end
          end
        end
        return out
        """;

    /// <summary>The store's clock (read-only). ARGV: now.</summary>
    public const string Clock = Prelude + """
        return fmt(now_us(ARGV[1]))
        """;

    // ---------------------------------------------------------------- locks, workers

    /// <summary>Takes or extends a lock. KEYS: the lock. ARGV: now, owner, TTL (µs). Returns 1 when held.</summary>
    public const string LockAcquire = Prelude + """
        local now = now_us(ARGV[1])
        local h = redis.call('HMGET', KEYS[1], 'o', 'x')
        if h[1] and h[1] ~= ARGV[2] and tonumber(h[2]) > now then return 0 end
        local ttl = tonumber(ARGV[3])
        redis.call('HSET', KEYS[1], 'o', ARGV[2], 'x', fmt(now + ttl))
        redis.call('PEXPIRE', KEYS[1], math.max(1, math.ceil(ttl / 1000)))
        return 1
        """;

    /// <summary>Releases a lock held by its owner. KEYS: the lock. ARGV: now, owner. Returns 1 when it was held and unexpired.</summary>
    public const string LockRelease = Prelude + """
        local now = now_us(ARGV[1])
        local h = redis.call('HMGET', KEYS[1], 'o', 'x')
        if h[1] ~= ARGV[2] then return 0 end
        redis.call('DEL', KEYS[1])
        if tonumber(h[2]) > now then return 1 end
        return 0
        """;

    /// <summary>Registers a worker or refreshes it. KEYS: the registry hash. ARGV: now, id, registration. Returns now.</summary>
    public const string WorkerHeartbeat = Prelude + """
        local now = fmt(now_us(ARGV[1]))
        redis.call('HSETNX', KEYS[1], 's|' .. ARGV[2], now)
        redis.call('HSET', KEYS[1], 'r|' .. ARGV[2], ARGV[3], 'h|' .. ARGV[2], now)
        return now
        """;

    /// <summary>Lists workers (read-only). KEYS: the registry hash. ARGV: now. Returns now and the hash.</summary>
    public const string WorkerList = Prelude + """
        return {fmt(now_us(ARGV[1])), redis.call('HGETALL', KEYS[1])}
        """;

    /// <summary>Removes a worker. KEYS: the registry hash. ARGV: id. Returns 1 when it was registered.</summary>
    public const string WorkerRemove = """
        return redis.call('HDEL', KEYS[1], 'r|' .. ARGV[1], 's|' .. ARGV[1], 'h|' .. ARGV[1]) > 0 and 1 or 0
        """;

    /// <summary>Removes workers not heard from since a cutoff. KEYS: the registry hash. ARGV: now, age (µs). Returns how many.</summary>
    public const string WorkerPrune = Prelude + """
        local cutoff = now_us(ARGV[1]) - tonumber(ARGV[2])
        local all = redis.call('HGETALL', KEYS[1])
        local removed = 0
        for k = 1, #all, 2 do
          local id = string.match(all[k], '^h|(.*)$')
          if id and tonumber(all[k + 1]) < cutoff then
            redis.call('HDEL', KEYS[1], 'r|' .. id, 's|' .. id, 'h|' .. id)
            removed = removed + 1
          end
        end
        return removed
        """;

    // ---------------------------------------------------------------- results

    /// <summary>Stores results in one shard. ARGV: now, count, then (id, token, value, TTL µs). Keys are derived from the shard's base ARGV[3 + 4·count].</summary>
    public const string ResultsSet = Prelude + """
        local now = now_us(ARGV[1])
        local count = tonumber(ARGV[2])
        local base = ARGV[3 + 4 * count]
        for j = 0, count - 1 do
          local id, token, value, ttl = ARGV[3 + 4 * j], ARGV[4 + 4 * j], ARGV[5 + 4 * j], tonumber(ARGV[6 + 4 * j])
          local key = base .. ':' .. id
          local expires = now + ttl
          redis.call('HSET', key, 'v' .. token, value, 'e' .. token, fmt(expires))
          local ms = math.max(1, math.ceil(ttl / 1000))
          if redis.call('PTTL', key) < ms then redis.call('PEXPIRE', key, ms) end
          redis.call('ZADD', base .. ':x', expires, id .. token)
        end
        return count
        """;

    /// <summary>Reads a result (read-only). KEYS: the result hash. ARGV: now, token. Returns value and expiry, or nothing.</summary>
    public const string ResultGet = Prelude + """
        local now = now_us(ARGV[1])
        local h = redis.call('HMGET', KEYS[1], 'v' .. ARGV[2], 'e' .. ARGV[2])
        if not h[1] or tonumber(h[2]) <= now then return {} end
        return {h[1], h[2]}
        """;

    /// <summary>Deletes every result of jobs of one shard. ARGV: base, ids. Returns how many results were deleted.</summary>
    public const string ResultsDelete = """
        local base = ARGV[1]
        local deleted = 0
        for k = 2, #ARGV do
          local key = base .. ':' .. ARGV[k]
          local fields = redis.call('HKEYS', key)
          for f = 1, #fields do
            if string.sub(fields[f], 1, 1) == 'v' then
              deleted = deleted + 1
              redis.call('ZREM', base .. ':x', ARGV[k] .. string.sub(fields[f], 2))
            end
          end
          redis.call('DEL', key)
        end
        return deleted
        """;

    /// <summary>Deletes the results of jobs kept with the jobs of one queue. ARGV: base, ids. Returns how many.</summary>
    public const string QueueResultsDelete = """
        local deleted = 0
        for k = 2, #ARGV do
          local key = ARGV[1] .. ':x:' .. ARGV[k]
          deleted = deleted + math.floor(redis.call('HLEN', key) / 2)
          redis.call('DEL', key)
        end
        return deleted
        """;

    /// <summary>Deletes expired results of one shard. ARGV: now, base, max. Returns how many.</summary>
    public const string ResultsPrune = Prelude + """
        local now = now_us(ARGV[1])
        local base = ARGV[2]
        local expired = redis.call('ZRANGEBYSCORE', base .. ':x', '-inf', now, 'LIMIT', 0, tonumber(ARGV[3]))
        for k = 1, #expired do
          local m = expired[k]
          local id, token = string.sub(m, 1, 32), string.sub(m, 33)
          redis.call('HDEL', base .. ':' .. id, 'v' .. token, 'e' .. token)
          redis.call('ZREM', base .. ':x', m)
        end
        return #expired
        """;

    // ---------------------------------------------------------------- events

    /// <summary>
    /// Appends events. ARGV: base, stream cap, job index TTL (ms), count, then per event: job id, kind, task, queue,
    /// attempt, timestamp (ticks), timestamp (µs), error (opt), worker (opt), delay (opt ticks), duration (opt ticks).
    /// </summary>
    public const string EventsAppend = """
        local base = ARGV[1]
        local cap = ARGV[2]
        local ttl = tonumber(ARGV[3])
        local i = 5
        for j = 1, tonumber(ARGV[4]) do
          local fields = {'j', ARGV[i], 'k', ARGV[i + 1], 't', ARGV[i + 2], 'q', ARGV[i + 3], 'a', ARGV[i + 4], 'at', ARGV[i + 5], 'u', ARGV[i + 6]}
          local names = {'e', 'w', 'dl', 'du'}
          for x = 1, 4 do
            local v = ARGV[i + 6 + x]
            if v ~= '' then
              fields[#fields + 1] = names[x]
              fields[#fields + 1] = string.sub(v, 2)
            end
          end
          local sid = redis.call('XADD', base .. ':s', 'MAXLEN', '~', cap, '*', unpack(fields))
          local jk = base .. ':j:' .. ARGV[i]
          redis.call('RPUSH', jk, sid)
          redis.call('PEXPIRE', jk, ttl)
          i = i + 11
        end
        return 1
        """;

    /// <summary>Lists events (read-only), oldest first. ARGV: base, limit, job id ('' for every job). Returns (stream id, fields) pairs.</summary>
    public const string EventsList = """
        local base = ARGV[1]
        local limit = tonumber(ARGV[2])
        if limit <= 0 then return {} end
        if ARGV[3] == '' then return redis.call('XRANGE', base .. ':s', '-', '+', 'COUNT', limit) end
        local ids = redis.call('LRANGE', base .. ':j:' .. ARGV[3], 0, -1)
        local out = {}
        for k = 1, #ids do
          local e = redis.call('XRANGE', base .. ':s', ids[k], ids[k])
          if #e > 0 then
            out[#out + 1] = e[1]
            if #out >= limit then break end
          end
        end
        return out
        """;

    /// <summary>
    /// Deletes events older than a cutoff, oldest appended first, examining at most a budget of entries. ARGV: now, base,
    /// age (µs), max, budget. Returns how many were deleted.
    /// </summary>
    public const string EventsPrune = Prelude + """
        local cutoff = now_us(ARGV[1]) - tonumber(ARGV[3])
        local base = ARGV[2]
        local max = tonumber(ARGV[4])
        local entries = redis.call('XRANGE', base .. ':s', '-', '+', 'COUNT', tonumber(ARGV[5]))
        local deleted = 0
        for k = 1, #entries do
          if deleted >= max then break end
          local sid, f = entries[k][1], entries[k][2]
          local job, at = nil, nil
          for x = 1, #f, 2 do
            if f[x] == 'j' then job = f[x + 1] elseif f[x] == 'u' then at = tonumber(f[x + 1]) end
          end
          if at and at < cutoff then
            redis.call('XDEL', base .. ':s', sid)
            if job then redis.call('LREM', base .. ':j:' .. job, 1, sid) end
            deleted = deleted + 1
          end
        end
        return deleted
        """;

    // ---------------------------------------------------------------- schedules

    /// <summary>
    /// Inserts or replaces a schedule. ARGV: base, name, expected version ('' none, else the version; '0' only if
    /// absent), then the fields (task, cron, interval, time zone, payload, paused, next, last, declared, each opt where
    /// nullable), next as a score (µs, or '' when it is not due-able). Returns the new version, or 0 when refused.
    /// </summary>
    public const string ScheduleUpsert = """
        local base, name, expected = ARGV[1], ARGV[2], ARGV[3]
        local key = base .. ':d:' .. name
        local cur = redis.call('HGET', key, 'v')
        if expected ~= '' then
          if expected == '0' then
            if cur then return 0 end
          elseif cur ~= expected then
            return 0
          end
        end
        local v = redis.call('INCR', base .. ':v')
        redis.call('DEL', key)
        local fields = {'v', v, 't', ARGV[4], 'pa', ARGV[9], 'de', ARGV[12]}
        local names = {[5] = 'cr', [6] = 'iv', [7] = 'tz', [8] = 'pl', [10] = 'nx', [11] = 'lr'}
        for x = 5, 11 do
          if names[x] and ARGV[x] ~= '' then
            fields[#fields + 1] = names[x]
            fields[#fields + 1] = string.sub(ARGV[x], 2)
          end
        end
        redis.call('HSET', key, unpack(fields))
        redis.call('ZADD', base .. ':names', 0, name)
        if ARGV[13] ~= '' then redis.call('ZADD', base .. ':due', ARGV[13], name) else redis.call('ZREM', base .. ':due', name) end
        return v
        """;

    /// <summary>
    /// Moves a schedule forward at an expected version. ARGV: base, name, expected version, last (opt ticks: '' keeps),
    /// next (opt ticks), next as a score (µs or ''). Returns the schedule's hash, or nothing when refused.
    /// </summary>
    public const string ScheduleAdvance = """
        local base, name = ARGV[1], ARGV[2]
        local key = base .. ':d:' .. name
        local h = redis.call('HMGET', key, 'v', 'pa')
        if not h[1] or h[1] ~= ARGV[3] then return {} end
        local v = redis.call('INCR', base .. ':v')
        redis.call('HSET', key, 'v', v)
        if ARGV[4] ~= '' then redis.call('HSET', key, 'lr', string.sub(ARGV[4], 2)) end
        if ARGV[5] ~= '' then redis.call('HSET', key, 'nx', string.sub(ARGV[5], 2)) else redis.call('HDEL', key, 'nx') end
        if ARGV[6] ~= '' and h[2] ~= '1' then redis.call('ZADD', base .. ':due', ARGV[6], name) else redis.call('ZREM', base .. ':due', name) end
        return redis.call('HGETALL', key)
        """;

    /// <summary>Deletes a schedule. ARGV: base, name. Returns 1 when it existed.</summary>
    public const string ScheduleDelete = """
        local base, name = ARGV[1], ARGV[2]
        redis.call('ZREM', base .. ':names', name)
        redis.call('ZREM', base .. ':due', name)
        return redis.call('DEL', base .. ':d:' .. name)
        """;

    /// <summary>Reads schedules (read-only). ARGV: base, names ('' = every schedule). Returns (name, hash) pairs.</summary>
    public const string ScheduleRead = """
        local base = ARGV[1]
        local names = {}
        if #ARGV == 1 then names = redis.call('ZRANGE', base .. ':names', 0, -1) else for k = 2, #ARGV do names[#names + 1] = ARGV[k] end end
        local out = {}
        for k = 1, #names do
          local h = redis.call('HGETALL', base .. ':d:' .. names[k])
          if #h > 0 then
            out[#out + 1] = names[k]
            out[#out + 1] = h
          end
        end
        return out
        """;

    /// <summary>
    /// Due schedules (read-only). ARGV: now, base, max. Returns now, the next due schedule's next run (ticks, or ''), then
    /// (name, hash) pairs of due ones, earliest first.
    /// </summary>
    public const string SchedulesDue = Prelude + """
        local now = now_us(ARGV[1])
        local base = ARGV[2]
        local due = redis.call('ZRANGEBYSCORE', base .. ':due', '-inf', now, 'LIMIT', 0, tonumber(ARGV[3]))
        local nextName = redis.call('ZRANGEBYSCORE', base .. ':due', '(' .. fmt(now), '+inf', 'LIMIT', 0, 1)
        local out = {fmt(now), ''}
        if #nextName > 0 then out[2] = redis.call('HGET', base .. ':d:' .. nextName[1], 'nx') or '' end
        for k = 1, #due do
          out[#out + 1] = due[k]
          out[#out + 1] = redis.call('HGETALL', base .. ':d:' .. due[k])
        end
        return out
        """;

    /// <summary>The persistence and memory sections of INFO of the server it runs on (sent with EVAL to one server at startup).</summary>
    public const string ServerInfo = """
        return redis.call('INFO', 'persistence') .. '\n' .. redis.call('INFO', 'memory')
        """;
}
