// Word lists the catalog and the users are drawn from. Non-ASCII, apostrophes, ampersands and
// slashes are here on purpose: the real data has them, and they exercise escaping end to end.

export const TITLE_WORDS = [
  'Love', 'Night', 'Heart', 'Fire', 'Dream', 'Rain', 'Road', 'Light', 'Blue', 'Gold', 'River', 'Summer', 'Shadow',
  'Dance', 'Star', 'Home', 'Train', 'Girl', 'Boy', 'Moon', 'Sun', 'Wild', 'City', 'Ghost', 'Angel', 'Devil', 'Sweet',
  'Broken', 'Electric', 'Silent', 'Lonely', 'Crazy', 'Little', 'Golden', 'Midnight', 'Paper', 'Glass', 'Stone',
  'Ocean', 'Highway', 'Thunder', 'Velvet', 'Neon', 'Echo', 'Mirror', 'Window', 'Garden', 'Kingdom', 'Wolves',
  'Sugar', 'Honey', 'Whiskey', 'Cherry', 'Diamond', 'Silver', 'Winter', 'Autumn', 'Spring', 'Morning', 'Evening',
  'Forever', 'Tonight', 'Yesterday', 'Tomorrow', 'Again', 'Away', 'Alone', 'Together', 'Inside', 'Outside',
  'Mañana', 'Corazón', 'Noche', 'Amour', 'Cœur', 'Liebe', 'Sehnsucht', 'Für Dich', 'Ça Va', 'Déjà Vu', 'Señorita',
  "Don't Stop", "I'm Gone", "Rock 'n' Roll", 'Me & You', 'AC/DC Blues', '50/50', '(Live)', '[Remastered]', 'Part II',
  'Sono andati?', 'Fingevo di dormire', 'Ten Tonne', 'Soul Deep', 'Intro', 'Outro', 'Interlude', 'Reprise',
] as const;

export const ARTIST_FIRST = [
  'The', 'Los', 'Les', 'DJ', 'MC', 'Lil', 'Big', 'Young', 'Old', 'Saint', 'Dr.', 'Sister', 'Brother', 'Captain',
] as const;

export const ARTIST_WORDS = [
  'Black', 'White', 'Red', 'Arctic', 'Velvet', 'Stone', 'Iron', 'Crystal', 'Electric', 'Cosmic', 'Neon', 'Rolling',
  'Flaming', 'Smashing', 'Killers', 'Monkeys', 'Keys', 'Lips', 'Pumpkins', 'Strokes', 'Shins', 'Hives', 'Vines',
  'Kinks', 'Beatles', 'Doors', 'Ramones', 'Clash', 'Cure', 'Smiths', 'Pixies', 'Feelies', 'Box Tops', 'Rakes',
  'Björk', 'Sigur Rós', 'Mötley', 'Crüe', 'Motörhead', 'Café Tacuba', 'Chase & Status', 'Simon & Garfunkel',
  "Des'ree", 'Guns N\' Roses', 'Florence + The Machine', 'Earth, Wind & Fire', 'AC/DC', 'Habib Koité',
  'Danilo Pérez', 'Mariza', 'Orquesta', 'Quartet', 'Trio', 'Ensemble', 'Orchestra', 'Collective', 'Project',
] as const;

export const FIRST_NAMES_F = [
  'Kaylee', 'Jizelle', 'Lily', 'Jacqueline', 'Tegan', 'Kinsley', 'Chloe', 'Mohammad', 'Aleena', 'Ava', 'Emily',
  'Sophia', 'Layla', 'Zoé', 'Amélie', 'Renée', 'Anaïs', 'Maya', 'Nora', 'Ruby', 'Stella', 'Hannah', 'Leah',
] as const;

export const FIRST_NAMES_M = [
  'Walter', 'Isaac', 'Joseph', 'Jacob', 'Ryan', 'Noah', 'Liam', 'Mason', 'Ethan', 'Logan', 'Lucas', 'Oliver',
  'José', 'André', 'Søren', 'Björn', 'Matías', 'Samuel', 'Caleb', 'Dylan', 'Wyatt', 'Owen', 'Evan',
] as const;

export const LAST_NAMES = [
  'Frye', 'Summers', 'Benjamin', 'Valdez', 'Gutierrez', 'Klein', 'Lynch', 'Levine', 'Young', 'Smith', 'Johnson',
  'Williams', 'Brown', 'Jones', 'Garcia', 'Miller', 'Davis', 'Rodriguez', 'Martinez', 'Hernández', 'López',
  "O'Brien", "D'Angelo", 'Müller', 'Núñez', 'Ortiz', 'Koch', 'Nguyen', 'Kim', 'Patel', 'Cohen', 'Murphy', 'Reed',
] as const;

/** Metro areas as eventsim writes them, with coordinates for the artists that have them. */
export const PLACES: readonly { name: string; lat: number; lon: number }[] = [
  { name: 'San Francisco-Oakland-Hayward, CA', lat: 37.77916, lon: -122.42005 },
  { name: 'Phoenix-Mesa-Scottsdale, AZ', lat: 33.44826, lon: -112.07577 },
  { name: 'Chicago-Naperville-Elgin, IL-IN-WI', lat: 41.88415, lon: -87.63241 },
  { name: 'New York-Newark-Jersey City, NY-NJ-PA', lat: 40.71455, lon: -74.00712 },
  { name: 'Los Angeles-Long Beach-Anaheim, CA', lat: 34.05349, lon: -118.24532 },
  { name: 'Atlanta-Sandy Springs-Roswell, GA', lat: 33.74831, lon: -84.39111 },
  { name: 'Portland-South Portland, ME', lat: 43.66141, lon: -70.25507 },
  { name: 'Tampa-St. Petersburg-Clearwater, FL', lat: 27.94653, lon: -82.45927 },
  { name: 'Janesville-Beloit, WI', lat: 42.68279, lon: -89.01873 },
  { name: 'Saginaw, MI', lat: 43.41947, lon: -83.95081 },
  { name: 'Columbia, SC', lat: 34.00035, lon: -81.03509 },
  { name: 'Red Bluff, CA', lat: 40.17849, lon: -122.23583 },
  { name: 'Memphis, TN', lat: 35.14968, lon: -90.04892 },
  { name: 'Seattle-Tacoma-Bellevue, WA', lat: 47.60356, lon: -122.32944 },
  { name: 'Houston-The Woodlands-Sugar Land, TX', lat: 29.76045, lon: -95.36978 },
  { name: 'Miami-Fort Lauderdale-West Palm Beach, FL', lat: 25.77481, lon: -80.19773 },
  { name: 'Boston-Cambridge-Newton, MA-NH', lat: 42.35867, lon: -71.05677 },
  { name: 'Denver-Aurora-Lakewood, CO', lat: 39.74001, lon: -104.99202 },
  { name: 'Nashville-Davidson--Murfreesboro--Franklin, TN', lat: 36.16778, lon: -86.77836 },
  { name: 'Minneapolis-St. Paul-Bloomington, MN-WI', lat: 44.97903, lon: -93.26493 },
  { name: 'Panama', lat: 8.4177, lon: -80.11278 },
  { name: 'London, England', lat: 51.50632, lon: -0.12714 },
  { name: 'Reykjavík, Iceland', lat: 64.13548, lon: -21.89541 },
  { name: 'São Paulo, Brazil', lat: -23.5475, lon: -46.63611 },
  { name: 'Montréal, Québec, Canada', lat: 45.50884, lon: -73.58781 },
  { name: 'California - LA', lat: 34.05349, lon: -118.24532 },
];

/** Browser strings in eventsim's style; the ones holding a comma are wrapped in quotes (a CSV artefact kept in the real logs). */
export const USER_AGENTS = [
  'Mozilla/5.0 (Windows NT 5.1; rv:31.0) Gecko/20100101 Firefox/31.0',
  '"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_9_4) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/36.0.1985.143 Safari/537.36"',
  '"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/37.0.2062.94 Safari/537.36"',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10.9; rv:31.0) Gecko/20100101 Firefox/31.0',
  '"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_9_4) AppleWebKit/537.78.2 (KHTML, like Gecko) Version/7.0.6 Safari/537.78.2"',
  '"Mozilla/5.0 (Windows NT 6.1; WOW64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/36.0.1985.125 Safari/537.36"',
  '"Mozilla/5.0 (iPhone; CPU iPhone OS 7_1_2 like Mac OS X) AppleWebKit/537.51.2 (KHTML, like Gecko) Version/7.0 Mobile/11D257 Safari/9537.53"',
  'Mozilla/5.0 (Windows NT 6.1; WOW64; rv:31.0) Gecko/20100101 Firefox/31.0',
  '"Mozilla/5.0 (Windows NT 6.3; WOW64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/36.0.1985.143 Safari/537.36"',
  'Mozilla/5.0 (compatible; MSIE 10.0; Windows NT 6.1; WOW64; Trident/6.0)',
  '"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Ubuntu Chromium/36.0.1985.125 Chrome/36.0.1985.125 Safari/537.36"',
  '"Mozilla/5.0 (iPad; CPU OS 7_1_2 like Mac OS X) AppleWebKit/537.51.2 (KHTML, like Gecko) Version/7.0 Mobile/11D257 Safari/9537.53"',
] as const;
