from chat_image import ChatImage, ImagePart, TextPart, UserMessage

pages = ImagePart.from_pdf("scan.pdf", pages="1-2", dpi=150)
question = UserMessage([TextPart("Summarise these pages."), *pages])
with ChatImage(images="anthropic") as client:
    answer = client.chat.completions.create(model="claude", messages=[question], max_tokens=300)
