-- PUBLISH each of ARGV[2..] to the channel ARGV[1], in order; returns how many were published.
-- One call per batch of task-sent events instead of a PUBLISH command each: the producer parses one reply.
for i = 2, #ARGV do
  redis.call('PUBLISH', ARGV[1], ARGV[i])
end
return #ARGV - 1
