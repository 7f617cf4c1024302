"""Describe every photo in a bucket with Ray Data, into Parquet (docs/distributed.md)."""

import ray

from chat_image.ray import ChatImageMapper

SOURCE = "s3://my-bucket/photos/"
TARGET = "s3://my-bucket/answers/"
WORKERS = 8

photos = ray.data.read_binary_files(SOURCE, include_paths=True)
answers = photos.map_batches(
    ChatImageMapper,
    fn_constructor_kwargs={
        "model": "gpt-4o",
        "prompt": "Describe this image in one sentence.",
        "max_tokens": 100,
        "in_flight": 64,  # requests in flight in each worker
        "rpm": 30_000,  # the gateway's limit, for the whole cluster...
        "workers": WORKERS,  # ...shared evenly: each worker starts at most rpm / workers
    },
    concurrency=WORKERS,  # the number of mapper workers (Ray actors)
    num_cpus=0.25,  # a worker mostly waits on the network
    batch_size=256,
)
answers.write_parquet(TARGET)
