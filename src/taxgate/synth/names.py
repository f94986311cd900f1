"""Name pools for the populations the reference case concerns, and nickname tables.

Populations: Hispanic, East and South-East Asian, Arabic, Slavic, English.
Records hold formal names; requests may use nicknames ("Bill" for "William",
"Pepe" for "José"). All names here are common given names and surnames, not
real people's records.
"""

from __future__ import annotations

import functools
import unicodedata

POPULATIONS: tuple[str, ...] = ("hispanic", "asian", "arabic", "slavic", "english")
POPULATION_SHARE: tuple[float, ...] = (0.30, 0.20, 0.10, 0.10, 0.30)


def _split(text: str) -> tuple[str, ...]:
    return tuple(s.strip() for s in text.replace("\n", " ").split(",") if s.strip())


# FIRST[pop] = (male, female); each pool has more than 21 names (families use offsets).
FIRST: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "hispanic": (
        _split("""José, Juan, Luis, Carlos, Jorge, Miguel, Jesús, Francisco, Alejandro, Ramón,
        Andrés, Héctor, Raúl, Sergio, Óscar, Manuel, Pedro, Javier, Fernando, Ricardo, Enrique,
        Ignacio, Roberto, Alberto, Eduardo, Guillermo, Juan Carlos, José Luis, Rafael, Joaquín"""),
        _split("""María, Guadalupe, Ana, Rosa, Carmen, Lucía, Sofía, Verónica, Mónica, Isabel,
        Beatriz, Elena, Dolores, Josefina, Concepción, Teresa, Patricia, Adriana, Alejandra,
        Gabriela, María José, María Guadalupe, Rosario, Inés, Marisol, Yolanda, Leticia"""),
    ),
    "asian": (
        _split("""Wei, Jun, Lei, Hao, Ming, Jian, Tao, Bo, Minh, Tuấn, Dũng, Hùng, Quang, Khoa,
        Min-jun, Hyun-woo, Ji-ho, Sung-min, Hiroshi, Kenji, Takeshi, Daisuke, Rommel, Jericho,
        Nam, Thanh, Long, Bao"""),
        _split("""Li, Jing, Hui, Yan, Fang, Xin, Mei, Ying, Thảo, Hương, Linh, Lan, Ngọc, Trang,
        Ji-woo, Seo-yeon, Min-seo, Eun-ji, Yuki, Akiko, Keiko, Haruka, Maricel, Rowena, Mai,
        Hoa, Xiaoling"""),
    ),
    "arabic": (
        _split("""Mohammed, Muhammad, Ahmed, Ali, Omar, Youssef, Khalid, Hassan, Hussein, Ibrahim,
        Abd al-Rahman, Mustafa, Tariq, Karim, Samir, Walid, Nabil, Faisal, Yasser, Bilal, Hamza,
        Jamal, Rashid, Ziad, Adel"""),
        _split("""Fatima, Aisha, Mariam, Layla, Noor, Huda, Zainab, Amira, Salma, Rania, Yasmin,
        Hana, Samira, Leila, Dina, Nadia, Rasha, Lubna, Maha, Reem, Suha, Amal, Iman, Widad"""),
    ),
    "slavic": (
        _split("""Piotr, Andrzej, Tomasz, Krzysztof, Marek, Ivan, Dmitri, Sergei, Oleksandr,
        Vladimir, Milan, Dragan, Nikola, Jakub, Łukasz, Paweł, Wojciech, Bogdan, Yuri, Mykola,
        Stanislav, Goran, Zoran, Miroslav"""),
        _split("""Anna, Katarzyna, Małgorzata, Agnieszka, Olga, Natalia, Svetlana, Irina, Jelena,
        Ivana, Zofia, Oksana, Marta, Ewa, Joanna, Dorota, Tatiana, Ludmila, Milena, Dragana,
        Halina, Bożena, Yelena, Vesna"""),
    ),
    "english": (
        _split("""James, John, Robert, Michael, William, David, Richard, Joseph, Thomas, Charles,
        Christopher, Daniel, Matthew, Anthony, Mark, Steven, Edward, Kenneth, Jonathan, Patrick,
        Timothy, Andrew, Benjamin, Samuel, Jean-Luc, Gregory, Nicholas, Raymond"""),
        _split("""Mary, Patricia, Jennifer, Linda, Elizabeth, Barbara, Susan, Jessica, Sarah,
        Karen, Margaret, Katherine, Deborah, Rebecca, Christine, Nancy, Dorothy, Helen, Sandra,
        Donna, Carol, Michelle, Amanda, Rachel, Victoria, Abigail"""),
    ),
}

# MIDDLE[pop] = (male, female); "" means no middle name.
MIDDLE: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "hispanic": (
        _split("Antonio, Luis, Manuel, Alberto, Ángel, Javier, Miguel, Enrique, R, A"),
        _split("Isabel, Elena, Luisa, Guadalupe, Teresa, Alejandra, Inés, Cristina, M, L"),
    ),
    "asian": (
        _split("Văn, Đức, Minh, Quốc, Hữu, Wei, Jun, Ming"),
        _split("Thị, Ngọc, Kim, Thu, Mei, Ling, Hoa"),
    ),
    "arabic": (
        _split("Ahmed, Mohammed, Ali, Hassan, Omar, Ibrahim, Khalil, Saleh"),
        _split("Ahmed, Mohammed, Ali, Hassan, Omar, Ibrahim, Amina, Noor"),
    ),
    "slavic": (
        _split("Jan, Andrzej, Piotr, Ivanovich, Petrovich, Stefan, Marek, Aleksander"),
        _split("Maria, Anna, Zofia, Ivanovna, Petrovna, Teresa, Ewa, Barbara"),
    ),
    "english": (
        _split("Lee, Allen, Ray, Wayne, James, Edward, Michael, Joseph, Thomas, Scott, D, J, K"),
        _split("Ann, Marie, Lynn, Elizabeth, Jane, Louise, Grace, Rose, Jean, Kay, M, S, L"),
    ),
}
MIDDLE_SHARE: dict[str, float] = {
    "hispanic": 0.35,
    "asian": 0.45,
    "arabic": 0.5,
    "slavic": 0.4,
    "english": 0.75,
}

# Surnames, most frequent first (sampled with Zipf-like weights).
LAST: dict[str, tuple[str, ...]] = {
    "hispanic": _split("""García, Hernández, Martínez, López, González, Rodríguez, Pérez,
    Sánchez, Ramírez, Torres, Flores, Rivera, Gómez, Díaz, Cruz, Morales, Reyes, Gutiérrez,
    Ortiz, Chávez, Ramos, Ruiz, Jiménez, Vásquez, Castillo, Mendoza, Romero, Álvarez, Herrera,
    Medina, Aguilar, Vargas, Castro, Núñez, de la Cruz, del Río, Ibarra, Domínguez, Peña,
    Salazar, Delgado, Navarro, Muñoz, Espinoza, de León"""),
    "asian": _split("""Nguyễn, Zhang, Wang, Li, Liu, Chen, Kim, Lee, Trần, Yang, Huang, Park,
    Lê, Zhao, Wu, Phạm, Zhou, Choi, Xu, Santos, Hoàng, Lin, Sun, Huỳnh, Tanaka, Sato, Suzuki,
    Jung, Phan, Võ, Đặng, Bùi, Bautista, dela Cruz, Takahashi, Ma, Guo, Yamamoto"""),
    "arabic": _split("""Ali, Hassan, Ahmed, Mohamed, Al-Rashid, Haddad, Khoury, Mansour, Saleh,
    Nasser, Abdullah, El-Sayed, Al-Amin, Hamdan, Barakat, Aziz, Qureshi, Rahman, Abu-Bakr,
    Ibrahim, Khalil, Darwish, Awad, Al-Masri, Suleiman, Yousef, Farah, Jaber"""),
    "slavic": _split("""Nowak, Kowalski, Wójcik, Lewandowski, Kowalczyk, Zieliński, Szymański,
    Dąbrowski, Kovačević, Petrović, Jovanović, Novák, Ivanov, Petrov, Smirnov, Kuznetsov,
    Shevchenko, Kovalenko, Horvat, Babić, Kamiński, Woźniak, Popov, Bondarenko, Marković,
    Nikolić, Mazur, Krawczyk"""),
    "english": _split("""Smith, Johnson, Williams, Brown, Jones, Miller, Davis, Wilson, Anderson,
    Taylor, Thomas, Moore, Jackson, White, Harris, Clark, Lewis, Walker, Hall, Young, King,
    Wright, Scott, Green, Baker, Adams, Nelson, Campbell, Mitchell, Roberts, Carter, Phillips,
    O'Brien, O'Connor, McDonald, St. John, Sullivan, Murphy, Kelly, Mc Donald, Fitzgerald"""),
}

# Very common full names held by many different taxpayers: (population, sex, first, last).
COMMON_NAMES: tuple[tuple[str, int, str, str], ...] = (
    ("hispanic", 1, "Maria", "Garcia"),
    ("hispanic", 1, "María", "García"),
    ("hispanic", 0, "Jose", "Hernandez"),
    ("hispanic", 0, "José", "Hernández"),
    ("hispanic", 0, "Juan", "Rodríguez"),
    ("hispanic", 1, "Guadalupe", "Martínez"),
    ("asian", 0, "Wei", "Zhang"),
    ("asian", 1, "Li", "Wang"),
    ("asian", 0, "Minh", "Nguyễn"),
    ("arabic", 0, "Mohammed", "Ali"),
    ("arabic", 0, "Ahmed", "Hassan"),
    ("slavic", 1, "Anna", "Nowak"),
    ("english", 0, "John", "Smith"),
    ("english", 0, "James", "Johnson"),
    ("english", 1, "Mary", "Williams"),
)

# Spanish hypocorisms (the `nicknames` package covers English).
SPANISH_NICKNAMES: dict[str, tuple[str, ...]] = {
    "José": ("Pepe", "Chepe"),
    "Francisco": ("Paco", "Pancho", "Frank"),
    "Guadalupe": ("Lupe", "Lupita"),
    "Jesús": ("Chuy", "Chucho"),
    "Ignacio": ("Nacho",),
    "Alejandro": ("Alex", "Jandro"),
    "Alejandra": ("Alex", "Jandra"),
    "Roberto": ("Beto",),
    "Alberto": ("Beto",),
    "Enrique": ("Quique",),
    "Concepción": ("Concha", "Conchita"),
    "Dolores": ("Lola",),
    "Rosario": ("Charo",),
    "Manuel": ("Manolo", "Manny"),
    "Eduardo": ("Lalo",),
    "Guillermo": ("Memo",),
    "Fernando": ("Nando",),
    "Josefina": ("Pepa", "Fina"),
    "Teresa": ("Tere",),
    "Rafael": ("Rafa",),
    "Ramón": ("Moncho",),
    "María José": ("Majo",),
    "María Guadalupe": ("Lupe",),
    "Juan Carlos": ("Juanca",),
    "José Luis": ("Pepe Luis",),
}


@functools.lru_cache(maxsize=65_536)
def strip_accents(text: str) -> str:
    """Remove diacritics: "Nguyễn" -> "Nguyen", "Wójcik" -> "Wojcik"; "Ł" -> "L".

    >>> strip_accents("María Łukasz Đặng")
    'Maria Lukasz Dang'
    """
    text = text.replace("Ł", "L").replace("ł", "l").replace("Đ", "D").replace("đ", "d")
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


@functools.cache
def _english_nicknames() -> dict[str, tuple[str, ...]]:
    from nicknames import NickNamer

    namer = NickNamer()
    table: dict[str, tuple[str, ...]] = {}
    male, female = FIRST["english"]
    for name in (*male, *female):
        nicks = sorted(n for n in namer.nicknames_of(name.lower()) if n.isalpha())
        if nicks:
            table[name] = tuple(n.title() for n in nicks)
    return table


def nicknames_for(first_name: str) -> tuple[str, ...]:
    """Nicknames a requester might use for a formal first name ("William" -> "Bill", ...)."""
    spanish = SPANISH_NICKNAMES.get(first_name)
    if spanish:
        return spanish
    return _english_nicknames().get(first_name, ())


def population_of_surname(last_name: str) -> int:
    """Index into POPULATIONS of the pool holding ``last_name`` (Hispanic for doubles)."""
    for i, pop in enumerate(POPULATIONS):
        if last_name in LAST[pop]:
            return i
    return 0 if (" " in last_name or "-" in last_name) else len(POPULATIONS) - 1
