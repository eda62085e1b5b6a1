import io

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
