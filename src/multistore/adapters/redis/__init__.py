"""Redis adapters (install the ``redis`` extra): the Redis Streams event bus."""

from multistore.adapters.redis.streams import RedisStreamsEventBus, decode_event, encode_event

__all__ = ["RedisStreamsEventBus", "decode_event", "encode_event"]
