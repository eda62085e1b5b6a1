import io
import struct
import zlib

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from .conftest import login, text


def image_file(fmt="JPEG", name="toit.jpg", size=(800, 600)):
    buffer = io.BytesIO()
    Image.new("RGB", size, "blue").save(buffer, fmt)
    return SimpleUploadedFile(name, buffer.getvalue())


def test_a_photo_is_stored_with_a_thumbnail_and_served_to_who_may_see_it(
    installer, granted_plant, customer, stranger, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    client = login(installer)
    client.post(reverse("plants:about", args=[granted_plant.pk]), {"image": image_file(), "caption": "Toit"})
    photo = granted_plant.photos.get()
    thumb = Image.open(photo.thumbnail.path)
    assert max(thumb.size) <= 480
    url = reverse("plants:photo", args=[granted_plant.pk, photo.pk, "thumb"])
    assert login(customer).get(url).status_code == 200
    assert login(stranger).get(url).status_code == 404


def test_a_non_image_is_refused_with_the_reason(installer, plant, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    fake = SimpleUploadedFile("photo.jpg", b"%PDF-1.4 not an image at all")
    response = login(installer).post(reverse("plants:about", args=[plant.pk]), {"image": fake})
    assert "n'est pas une image" in text(response)
    assert plant.photos.count() == 0


def test_a_gif_is_refused_with_the_reason(installer, plant, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    response = login(installer).post(
        reverse("plants:about", args=[plant.pk]), {"image": image_file("GIF", "anim.gif")}
    )
    assert "JPEG, PNG ou WebP" in response.content.decode()
    assert plant.photos.count() == 0


def test_an_oversized_photo_is_refused_and_nothing_changes(installer, plant, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.PHOTO_MAX_BYTES = 10_000
    login(installer).post(reverse("plants:about", args=[plant.pk]), {"image": image_file()})
    ok = login(installer).post(
        reverse("plants:about", args=[plant.pk]), {"image": image_file("PNG", "grand.png", (3000, 3000))}
    )
    assert "trop volumineuse" in ok.content.decode()
    assert plant.photos.count() <= 1


def png_with_script():
    """A valid PNG whose text chunk carries an HTML page with a script."""
    buffer = io.BytesIO()
    Image.new("RGB", (20, 20), "red").save(buffer, "PNG")
    data = buffer.getvalue()
    payload = b"Comment\x00<html><script>document.title='pwned'</script></html>"
    chunk = struct.pack(">I", len(payload)) + b"tEXt" + payload
    chunk += struct.pack(">I", zlib.crc32(b"tEXt" + payload) & 0xFFFFFFFF)
    return data[:33] + chunk + data[33:]  # after the IHDR chunk


def test_a_png_named_html_with_a_script_is_stored_and_served_as_a_plain_jpeg(
    installer, plant, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    upload = SimpleUploadedFile("x.html", png_with_script(), content_type="text/html")
    client = login(installer)
    client.post(reverse("plants:about", args=[plant.pk]), {"image": upload})
    photo = plant.photos.get()
    assert photo.image.name.endswith(".jpg") and "x.html" not in photo.image.name
    stored = open(photo.image.path, "rb").read()
    assert stored.startswith(b"\xff\xd8") and b"script" not in stored  # re-encoded, payload gone
    response = client.get(reverse("plants:photo", args=[plant.pk, photo.pk, "full"]))
    assert response["Content-Type"] == "image/jpeg"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response["Content-Security-Policy"]
    assert b"script" not in b"".join(response.streaming_content)


def png_bomb(width, height):
    """A tiny PNG that declares width × height pixels (its few IDAT bytes decode to far less)."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)

    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\0" * 64))
        + chunk(b"IEND", b"")
    )


def test_a_decompression_bomb_is_refused_with_a_form_error(installer, plant, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    upload = SimpleUploadedFile("bomb.png", png_bomb(20_000, 20_000))
    response = login(installer).post(reverse("plants:about", args=[plant.pk]), {"image": upload})
    assert response.status_code == 200
    assert "mégapixels" in text(response)
    assert plant.photos.count() == 0


def test_a_photo_over_the_megapixel_limit_is_refused_in_the_api(installer, plant, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.PHOTO_MAX_MEGAPIXELS = 1
    response = login(installer).post(
        "/api/v1/photos/", {"plant": plant.pk, "image": image_file(size=(1200, 1000))}
    )
    assert response.status_code == 400
    assert "megapixel" in response.content.decode().lower() or "mégapixels" in response.content.decode()
    assert plant.photos.count() == 0
