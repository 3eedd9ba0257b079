"""Small data sets in every format, written to tmp_path by the tests, plus the shipped sample."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from recviz.data import Dataset, load_dataset

SAMPLE = Path(__file__).resolve().parents[2] / "sample_data" / "ml-latest-small"

# upstream ml-latest style: the year is in the title; user 1 rates 10 and 20 at the same second
ML_RATINGS = """userId,movieId,rating,timestamp
1,10,4.0,100
1,20,3.5,100
1,30,5.0,50
2,10,2.0,200
2,30,1.0,300
"""
ML_MOVIES = """movieId,title,genres
10,"American President, The (1995)",Comedy|Drama|Romance
20,Toy Story (1995),Animation|Children
30,Untitled Thing,(no genres listed)
40,Babylon 5 (1994),Sci-Fi
50,,Drama
"""

FLAGS = ("unknown", "Action", "Adventure", "Animation", "Children's", "Comedy", "Crime", "Documentary",
         "Drama", "Fantasy", "Film-Noir", "Horror", "Musical", "Mystery", "Romance", "Sci-Fi", "Thriller",
         "War", "Western")


def u_item_line(item_id: int, title: str, date: str, genres: tuple[str, ...]) -> str:
    flags = "|".join("1" if g in genres else "0" for g in FLAGS)
    return f"{item_id}|{title}|{date}||http://us.imdb.com/x|{flags}"


U_DATA = "1\t10\t4\t881250949\n1\t20\t3\t881250950\n2\t267\t1\t891717742\n"
U_ITEM = "\n".join(
    [
        u_item_line(10, "Cité des enfants perdus, La (1995)", "01-Jan-1995", ("Adventure", "Sci-Fi")),
        u_item_line(20, "Toy Story", "01-Jan-1993", ("Animation", "Children's", "Comedy")),
        u_item_line(267, "unknown", "", ("unknown",)),
    ]
) + "\n"

ML1M_RATINGS = "1::10::5::978300760\n1::20::3::978302109\n2::10::4::978301968\n"
ML1M_MOVIES = (
    "10::Star Wars: Episode IV - A New Hope (1977)::Action|Adventure|Fantasy|Sci-Fi\n"
    "20::Cité des enfants perdus, La (1995)::Adventure|Sci-Fi\n"
)

RB_INTER = (
    "user_id:token\titem_id:token\trating:float\ttimestamp:float\n"
    "1\t10\t4.0\t978300760.0\n"
    "1\t20\t3.0\t978300761.7\n"
    "2\t10\t5.0\t978300762.0\n"
)
RB_ITEM = (
    "item_id:token\tmovie_title:token_seq\trelease_year:token\tgenre:token_seq\n"
    "10\tToy Story\t1995\tAnimation Children's Comedy\n"
    "20\tJumanji\t\tAdventure\n"
)

Writer = Callable[..., Path]


@pytest.fixture
def write(tmp_path: Path) -> Writer:
    """write(name, text, encoding="utf-8", directory="ds") -> the directory, with the file written."""

    def _write(name: str, text: str | bytes, encoding: str = "utf-8", directory: str = "ds") -> Path:
        folder = tmp_path / directory
        folder.mkdir(exist_ok=True)
        data = text if isinstance(text, bytes) else text.encode(encoding)
        (folder / name).write_bytes(data)
        return folder

    return _write


@pytest.fixture
def ml_csv_dir(write: Writer) -> Path:
    write("ratings.csv", ML_RATINGS)
    return write("movies.csv", ML_MOVIES)


@pytest.fixture
def ml100k_dir(write: Writer) -> Path:
    write("u.data", U_DATA)
    return write("u.item", U_ITEM, "latin-1")


@pytest.fixture
def ml1m_dir(write: Writer) -> Path:
    write("ratings.dat", ML1M_RATINGS, "latin-1")
    return write("movies.dat", ML1M_MOVIES, "latin-1")


@pytest.fixture
def recbole_dir(write: Writer) -> Path:
    write("toy.inter", RB_INTER)
    return write("toy.item", RB_ITEM)


@pytest.fixture(scope="session")
def sample() -> Dataset:
    return load_dataset(SAMPLE)


@pytest.fixture(scope="session")
def sample_dir() -> Path:
    return SAMPLE
