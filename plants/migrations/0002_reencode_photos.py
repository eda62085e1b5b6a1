"""Re-encode photos stored before uploads were re-encoded: under the uploader's file name and bytes, a
PNG named `x.html` carrying a script could be served as a page. Each becomes a JPEG with a generated
name; a file that no longer decodes is replaced by a grey placeholder rather than kept as sent."""

import io
import uuid

from django.core.files.base import ContentFile
from django.db import migrations
from PIL import Image, ImageOps


def reencode(apps, schema_editor):
    PlantPhoto = apps.get_model("plants", "PlantPhoto")
    for photo in PlantPhoto.objects.all():
        try:
            with photo.image.open("rb") as f:
                image = ImageOps.exif_transpose(Image.open(f)).convert("RGB")
        except Exception:  # unreadable or missing: never keep the original bytes
            image = Image.new("RGB", (64, 64), "grey")
        old_name = photo.image.name
        buffer = io.BytesIO()
        image.save(buffer, "JPEG", quality=88)
        photo.image.save(f"{uuid.uuid4().hex}.jpg", ContentFile(buffer.getvalue()), save=False)
        photo.save(update_fields=["image"])
        photo.image.storage.delete(old_name)


class Migration(migrations.Migration):
    dependencies = [("plants", "0001_initial")]
    operations = [migrations.RunPython(reencode, migrations.RunPython.noop)]
