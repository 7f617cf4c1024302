from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter

from chat_image import ChatImage, UserMessage

provider = TracerProvider()
provider.add_span_processor(BatchSpanProcessor(ConsoleSpanExporter()))
trace.set_tracer_provider(provider)

client = ChatImage()
with trace.get_tracer("my-app").start_as_current_span("describe photo"):
    client.chat.completions.create(
        model="gpt-4o", messages=[UserMessage("Describe a boardwalk.")], max_tokens=100
    )
# One span "chat gpt-4o" (kind CLIENT), a child of "describe photo".
